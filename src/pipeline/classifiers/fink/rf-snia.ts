// Early SN Ia score as fink-science 7.4.0 computes `rf_snia_vs_nonia` (ztf/random_forest_snia/processor.py
// rfscore_sigmoid_full), with actsnfink's sigmoid features (emilleishida/fink_sn_activelearning@4f46b3a,
// classifier_sigmoid.get_sigmoid_features_dev, ewma window 3, 2 rising points, 4 data points) and the wheel's
// forest default-model_sigmoid.obj.
//
// Applicability, else 0: at least 4 points with a magnitude (all bands), ndethist <= 20, cdsxmatch a possible
// host. Per band g, r, from every point (upper limits included, as NaN fluxes):
// - SNANA fluxes (zero point 27.5); dates rounded to the day (numpy: half to even) and averaged per day (NaN
//   fluxes ignored); days with a flux <= -10 or any NaN dropped;
// - with at least 4 days: the derivative of the exponentially weighted mean (pandas ewm(com=3)) of the flux;
//   when no day has a negative derivative (the whole light curve rises): snratio = mean(flux / err),
//   nrise = days, and a sigmoid c / (1 + exp(-a (t - b))) fitted by least squares (least-squares.ts, scipy's
//   path) from actsnfink's initial guess; mse between the normalised fluxes and the normalised prediction
//   (rounded to 4 decimals, zeros replaced by 1e-5);
// - otherwise the band's features are (0, 0, 0, 0.1, 1e8, 0).
// The probability is 0 when a_g or a_r is 0 (a band was not fitted), else the forest's P(Ia).
import type { RandomForest } from './forest.ts';
import { leastSquares } from './least-squares.ts';
import { countValid, EXTRAGALACTIC_HOST_TYPES, mag2fluxcalSnana } from './photometry.ts';
import type { ZtfLightCurve } from './photometry.ts';

const FAKE = [0, 0, 0, 0.1, 1e8, 0];
const EWMA_COM = 3;
const MIN_RISING = 2;
const MIN_POINTS = 4;
const LOW_BOUND = -10;

/** numpy round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** pandas ewm(com).mean() with adjust=True, as its recursion computes it. */
function ewmMean(values: readonly number[], com: number): number[] {
  const alpha = 1 / (1 + com);
  const oldWtFactor = 1 - alpha;
  const out: number[] = [];
  let weighted = values[0]!;
  let oldWt = 1;
  out.push(weighted);
  for (let i = 1; i < values.length; i++) {
    const cur = values[i]!;
    oldWt *= oldWtFactor;
    if (weighted !== cur) weighted = (oldWt * weighted + cur) / (oldWt + 1);
    oldWt += 1;
    out.push(weighted);
  }
  return out;
}

function sigmoid(t: number, a: number, b: number, c: number): number {
  return c / (1 + Math.exp(-a * (t - b)));
}

/** actsnfink fit_sigmoid: its initial guess, then least squares on |flux - sigmoid|. */
export function fitSigmoid(time: readonly number[], flux: readonly number[]): [number, number, number] {
  let iMax = 0;
  let iMin = 0;
  for (let i = 1; i < flux.length; i++) {
    if (flux[i]! > flux[iMax]!) iMax = i;
    if (flux[i]! < flux[iMin]!) iMin = i;
  }
  const t0 = time[iMax]! - time[0]!;
  const slope = t0 > 0 ? (iMax - iMin) / (time[iMax]! - time[iMin]!) : 1;
  const f0 = flux[0]! > 0 ? flux[0]! : 0;
  const aGuess = slope;
  const cGuess = Math.max(...flux);
  const bGuess = f0 !== 0 && cGuess / f0 !== 1 ? Math.log(cGuess / f0 - 1) / aGuess : 1;
  const result = leastSquares(
    ([a, b, c]) => time.map((t, i) => Math.abs(flux[i]! - sigmoid(t, a!, b!, c!))),
    [aGuess, bGuess, cGuess],
  );
  return [result.x[0]!, result.x[1]!, result.x[2]!];
}

/** The 6 features of one band from its points (jd, flux, err; NaN fluxes for upper limits). */
export function sigmoidBandFeatures(
  points: readonly { jd: number; flux: number; fluxErr: number }[],
): number[] {
  // Average per rounded day (groupby sorts the days).
  const days = new Map<number, { flux: number; nFlux: number; err: number; nErr: number }>();
  for (const p of points) {
    const day = rint(p.jd);
    const d = days.get(day) ?? { flux: 0, nFlux: 0, err: 0, nErr: 0 };
    if (!Number.isNaN(p.flux)) {
      d.flux += p.flux;
      d.nFlux++;
    }
    if (!Number.isNaN(p.fluxErr)) {
      d.err += p.fluxErr;
      d.nErr++;
    }
    days.set(day, d);
  }
  const rows = [...days.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([day, d]) => ({
      t: day,
      flux: d.nFlux > 0 ? d.flux / d.nFlux : Number.NaN,
      err: d.nErr > 0 ? d.err / d.nErr : Number.NaN,
    }))
    .filter((r) => r.flux > LOW_BOUND && !Number.isNaN(r.err));
  if (rows.length < MIN_POINTS) return [...FAKE];
  const ewm = ewmMean(
    rows.map((r) => r.flux),
    EWMA_COM,
  );
  let rising = 0;
  for (let i = 0; i < rows.length; i++) {
    const derivative = i === 0 ? Number.NaN : ewm[i]! - ewm[i - 1]!;
    if (!(derivative < 0)) rising++;
  }
  if (!(rising >= MIN_RISING && rising === rows.length)) return [...FAKE];
  const flux = rows.map((r) => r.flux);
  const snratio = rows.reduce((acc, r) => acc + r.flux / r.err, 0) / rows.length;
  const time = rows.map((r) => r.t - rows[0]!.t);
  const [a, b, c] = fitSigmoid(time, flux);
  const predicted = time.map((t) => {
    const v = rint(sigmoid(t, a, b, c) * 1e4) / 1e4;
    return v === 0 ? 0.00001 : v;
  });
  const sumFlux = flux.reduce((acc, v) => acc + v, 0);
  const sumPred = predicted.reduce((acc, v) => acc + v, 0);
  const mse = flux.reduce((acc, v, i) => acc + (v / sumFlux - predicted[i]! / sumPred) ** 2, 0) / flux.length;
  return [a, b, c, snratio, mse, rows.length];
}

/** actsnfink's 12 features (g then r) of a ZTF light curve. */
export function sigmoidFeatures(lc: ZtfLightCurve): number[] {
  const out: number[] = [];
  for (const fid of [1, 2]) {
    const points: { jd: number; flux: number; fluxErr: number }[] = [];
    for (let i = 0; i < lc.jd.length; i++) {
      if (lc.fid[i] !== fid) continue;
      const { flux, fluxErr } = mag2fluxcalSnana(lc.magpsf[i]!, lc.sigmapsf[i]!);
      points.push({ jd: lc.jd[i]!, flux, fluxErr });
    }
    out.push(...sigmoidBandFeatures(points));
  }
  return out;
}

export interface RfSniaContext {
  cdsxmatch: string;
  ndethist: number | null;
}

export function rfSniaApplies(lc: ZtfLightCurve, ctx: RfSniaContext): boolean {
  return (
    countValid(lc.magpsf) >= MIN_POINTS &&
    ctx.ndethist !== null &&
    ctx.ndethist <= 20 &&
    EXTRAGALACTIC_HOST_TYPES.has(ctx.cdsxmatch)
  );
}

/** rf_snia_vs_nonia of one alert. */
export function rfSniaScore(forest: RandomForest, lc: ZtfLightCurve, ctx: RfSniaContext): number {
  if (!rfSniaApplies(lc, ctx)) return 0;
  const features = sigmoidFeatures(lc);
  if (features[0] === 0 || features[6] === 0) return 0;
  return forest.predictProba(features)[1]!;
}

/** The probability for given features (what the forest sees), with the same a_g / a_r rule. */
export function rfSniaFromFeatures(forest: RandomForest, features: readonly number[]): number {
  if (features[0] === 0 || features[6] === 0) return 0;
  return forest.predictProba(features)[1]!;
}
