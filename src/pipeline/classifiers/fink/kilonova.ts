// Kilonova score as fink-science 7.4.0 computes `rf_kn_vs_nonkn` (ztf/kilonova/processor.py knscore), with
// kndetect's features (b-biswas/kndetect v1.0.0, features.py) and its random forest `partial.pkl`.
//
// Applicability, else 0: more than 1 point with a magnitude, ndethist <= 20, jd(candidate) - jdstarthist < 20,
// cdsxmatch a possible host.
// Per band g, r (fid 1, 2; other bands ignored), the points with a magnitude as SNANA fluxes (zero point 27.5),
// in the alert's order:
// - the brightest point gives max_flux and the centre date; points strictly within +-50 days of it are kept
//   (3 principal components sampled every 0.25 day over 100 days, 401 samples);
// - when max_flux > 200 and at least 2 points are kept: fluxes and errors divided by max_flux, each point
//   mapped to the nearest sample (numpy's round half to even), and the 3 coefficients fitted by minimising
//   sum(((pcs . c)[i] - f)^2 / e^2) + W (c2^2 + c3^2 + (c1^2 if c1 < 0)), W = (max_flux / its error)^2, within
//   [-2, 2]^3. Fink uses scipy's L-BFGS-B from (0.5, 0.5, 0.5); the problem is convex, so the exact minimiser is
//   found here by enumerating the active sets (up to L-BFGS-B's tolerance, the same point);
//   features = c1..c3, residual sqrt(mean(((pcs . c)[i] - f)^2 / e^2)), max_flux;
// - otherwise the band's features are all 0, and then the alert's probability is 0 (kndetect predicts only when
//   both bands were fitted).
import type { RandomForest } from './forest.ts';
import { countValid, EXTRAGALACTIC_HOST_TYPES, mag2fluxcalSnana } from './photometry.ts';
import type { ZtfLightCurve } from './photometry.ts';

const TIME_BIN = 0.25;
const FLUX_LIMIT = 200;
const BOUND = 2;

export interface KnBandFeatures {
  /** [coeff1, coeff2, coeff3, residual, max_flux] */
  features: number[];
  fitted: boolean;
}

/** numpy's around (round half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Solves a small dense system (Gaussian elimination, partial pivoting); undefined when singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-300) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let acc = m[r]![n]!;
    for (let k = r + 1; k < n; k++) acc -= m[r]![k]! * x[k]!;
    x[r] = acc / m[r]![r]!;
  }
  return x;
}

/**
 * argmin over [-2, 2]^3 of |A c - z|^2 + W (c1^2 + c2^2 + [c0 < 0] c0^2) (0-based c): every combination of
 * variables at a bound, at the kink c0 = 0 or free (in either c0 regime) is solved and the feasible candidate
 * with the lowest loss kept. The loss is convex, so that is the global minimum.
 */
function fitCoefficients(rows: number[][], z: number[], weight: number): number[] {
  const k = 3;
  const ata = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => rows.reduce((acc, row) => acc + row[i]! * row[j]!, 0)),
  );
  const atz = Array.from({ length: k }, (_, i) => rows.reduce((acc, row, r) => acc + row[i]! * z[r]!, 0));
  const loss = (c: number[]): number => {
    let acc = 0;
    rows.forEach((row, r) => {
      const pred = row[0]! * c[0]! + row[1]! * c[1]! + row[2]! * c[2]!;
      acc += (pred - z[r]!) ** 2;
    });
    const reg = c[1]! ** 2 + c[2]! ** 2 + (c[0]! < 0 ? c[0]! ** 2 : 0);
    return acc + reg * weight;
  };
  // An interior stationary point of a convex function is its global minimum: try that first (the common case),
  // in both c0 regimes, before enumerating the active sets.
  for (const negative of [false, true]) {
    const h = ata.map((row, i) => row.map((v, j) => v + (i === j && (i > 0 || negative) ? weight : 0)));
    const c = solve(h, atz);
    if (c === undefined || c.some((v) => v < -BOUND || v > BOUND)) continue;
    if (negative ? c[0]! < 0 : c[0]! >= 0) return c;
  }
  type Choice = number | 'free';
  const options: Choice[][] = [
    [-BOUND, 0, BOUND, 'free'],
    [-BOUND, BOUND, 'free'],
    [-BOUND, BOUND, 'free'],
  ];
  let best: number[] = [0, 0, 0];
  let bestLoss = Infinity;
  for (const o0 of options[0]!)
    for (const o1 of options[1]!)
      for (const o2 of options[2]!) {
        const choice = [o0, o1, o2];
        const free = choice.flatMap((c, i) => (c === 'free' ? [i] : []));
        // c0 free: try both regimes (no penalty when c0 >= 0, penalty when c0 < 0).
        for (const negative of o0 === 'free' ? [false, true] : [false]) {
          const h = ata.map((row, i) => row.map((v, j) => v + (i === j && (i > 0 || negative) ? weight : 0)));
          const c = choice.map((v) => (v === 'free' ? 0 : v));
          if (free.length > 0) {
            const a = free.map((i) => free.map((j) => h[i]![j]!));
            const b = free.map(
              (i) =>
                atz[i]! - choice.reduce<number>((acc, v, j) => (v === 'free' ? acc : acc + h[i]![j]! * v), 0),
            );
            const x = solve(a, b);
            if (x === undefined) continue;
            free.forEach((i, n) => (c[i] = x[n]!));
          }
          if (c.some((v) => v < -BOUND || v > BOUND)) continue;
          if (o0 === 'free' && (negative ? !(c[0]! < 0) : !(c[0]! >= 0))) continue;
          const value = loss(c);
          if (value < bestLoss) {
            bestLoss = value;
            best = c;
          }
        }
      }
  return best;
}

export function knBandFeatures(
  points: readonly { mjd: number; flux: number; fluxErr: number }[],
  pcs: readonly Float64Array[],
): KnBandFeatures {
  const zero = { features: [0, 0, 0, 0, 0], fitted: false };
  if (points.length === 0) return zero;
  const samples = pcs[0]!.length;
  let maxLoc = 0;
  for (let i = 1; i < points.length; i++) if (points[i]!.flux > points[maxLoc]!.flux) maxLoc = i;
  const maxFlux = points[maxLoc]!.flux;
  const mid = points[maxLoc]!.mjd;
  const half = (TIME_BIN * (samples - 1)) / 2;
  const kept = points.filter((p) => p.mjd > mid - half && p.mjd < mid + half);
  if (!(maxFlux > FLUX_LIMIT && kept.length >= 2)) return zero;
  let keptMax = 0;
  for (let i = 1; i < kept.length; i++) if (kept[i]!.flux > kept[keptMax]!.flux) keptMax = i;
  const weight = (maxFlux / kept[keptMax]!.fluxErr) ** 2;
  const index = kept.map((p) => roundHalfEven((p.mjd - mid) / TIME_BIN + (samples - 1) / 2));
  const flux = kept.map((p) => p.flux / maxFlux);
  const err = kept.map((p) => p.fluxErr / maxFlux);
  const rows = index.map((i, r) => pcs.map((pc) => pc[i]! / err[r]!));
  const z = flux.map((f, r) => f / err[r]!);
  const c = fitCoefficients(rows, z, weight);
  let acc = 0;
  index.forEach((i, r) => {
    const pred = pcs[0]![i]! * c[0]! + pcs[1]![i]! * c[1]! + pcs[2]![i]! * c[2]!;
    acc += (pred - flux[r]!) ** 2 / err[r]! ** 2;
  });
  return { features: [...c, Math.sqrt(acc / kept.length), maxFlux], fitted: true };
}

export interface KnContext {
  cdsxmatch: string;
  ndethist: number | null;
  jdstarthist: number | null;
}

export function knApplies(lc: ZtfLightCurve, ctx: KnContext): boolean {
  const lastJd = lc.jd[lc.jd.length - 1]!;
  return (
    countValid(lc.magpsf) > 1 &&
    ctx.ndethist !== null &&
    ctx.ndethist <= 20 &&
    lastJd - (ctx.jdstarthist ?? Number.NaN) < 20 &&
    EXTRAGALACTIC_HOST_TYPES.has(ctx.cdsxmatch)
  );
}

/** kndetect's 10 features (g then r) of an alert's light curve. */
export function knFeatures(
  lc: ZtfLightCurve,
  pcs: readonly Float64Array[],
): { features: number[]; fitted: boolean } {
  const out: number[] = [];
  let fitted = true;
  for (const fid of [1, 2]) {
    const points: { mjd: number; flux: number; fluxErr: number }[] = [];
    for (let i = 0; i < lc.jd.length; i++) {
      if (lc.fid[i] !== fid) continue;
      const { flux, fluxErr } = mag2fluxcalSnana(lc.magpsf[i]!, lc.sigmapsf[i]!);
      if (Number.isNaN(flux)) continue;
      points.push({ mjd: lc.jd[i]!, flux, fluxErr });
    }
    const band = knBandFeatures(points, pcs);
    out.push(...band.features);
    fitted &&= band.fitted;
  }
  return { features: out, fitted };
}

/** rf_kn_vs_nonkn of one alert: P(KN), 0 where Fink does not score or a band could not be fitted. */
export function knScore(
  forest: RandomForest,
  pcs: readonly Float64Array[],
  lc: ZtfLightCurve,
  ctx: KnContext,
): number {
  if (!knApplies(lc, ctx)) return 0;
  const { features, fitted } = knFeatures(lc, pcs);
  if (!fitted) return 0;
  return forest.predictProba(features)[1]!;
}
