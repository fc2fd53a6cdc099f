// The light-curve features Fink's anomaly detection reads (fink-science 7.4.0 ztf/ad_features/processor.py,
// extract_features_ad_raw), as the `light-curve` package (light-curve-feature 0.10, called with fill_value=NaN)
// computes them. Only the 18 features the anomaly forests take are computed (MODEL_COLUMNS).
//
// Per ZTF band (fid 1 and 2 among the bands of any point, upper limits included):
// - the points with a magnitude and an error; when any of them lies on a reference source (distnr <= 1.5 px),
//   all of them are converted to DC magnitudes and those without one dropped;
// - time must increase strictly and magnitudes be finite, else light-curve raises ValueError and Fink leaves the
//   band out (two points of one band at the same jd do that);
// - each feature that cannot be computed (too few points, flat light curve) is NaN.
// Sums run in order, as light-curve's folds do; quantiles use its float32 arithmetic.
import { lnErfc } from './erf.ts';
import { dcMag, isSourceBehind } from './photometry.ts';
import type { ZtfLightCurve } from './photometry.ts';

export const AD_MODEL_COLUMNS = [
  'amplitude',
  'anderson_darling_normal',
  'beyond_1_std',
  'chi2',
  'cusum',
  'kurtosis',
  'linear_fit_slope',
  'linear_fit_slope_sigma',
  'linear_trend_noise',
  'linear_trend_sigma',
  'magnitude_percentage_ratio_20_10',
  'magnitude_percentage_ratio_40_5',
  'maximum_slope',
  'median',
  'median_absolute_deviation',
  'median_buffer_range_percentage_10',
  'skew',
  'stetson_K',
] as const;

export type AdFeatureName = (typeof AD_MODEL_COLUMNS)[number];
export type AdFeatures = Record<AdFeatureName, number>;

/** Features per ZTF fid (1, 2); a band light-curve refused is absent. */
export type AdFeaturesByBand = Map<number, AdFeatures>;

export function extractAdFeatures(lc: ZtfLightCurve): AdFeaturesByBand {
  const bands = [...new Set(lc.fid)].filter((fid) => fid <= 2).sort((a, b) => a - b);
  const valid: number[] = [];
  for (let i = 0; i < lc.jd.length; i++) {
    if (!Number.isNaN(lc.magpsf[i]!) && !Number.isNaN(lc.sigmapsf[i]!)) valid.push(i);
  }
  let points = valid.map((i) => ({ jd: lc.jd[i]!, fid: lc.fid[i]!, m: lc.magpsf[i]!, s: lc.sigmapsf[i]! }));
  if (valid.some((i) => isSourceBehind(lc.distnr[i]!))) {
    points = valid
      .map((i) => {
        const { mag, magErr } = dcMag(
          lc.magpsf[i]!,
          lc.sigmapsf[i]!,
          lc.magnr[i]!,
          lc.sigmagnr[i]!,
          lc.isdiffpos[i]!,
        );
        return { jd: lc.jd[i]!, fid: lc.fid[i]!, m: mag, s: magErr };
      })
      .filter((p) => !Number.isNaN(p.m) && !Number.isNaN(p.s));
  }
  points.sort((a, b) => a.jd - b.jd);
  const out: AdFeaturesByBand = new Map();
  for (const fid of bands) {
    const band = points.filter((p) => p.fid === fid);
    const t = band.map((p) => p.jd);
    const m = band.map((p) => p.m);
    const sigma = band.map((p) => p.s);
    let refused = false;
    for (let i = 1; i < t.length; i++) if (!(t[i - 1]! < t[i]!)) refused = true;
    if (t.some((x) => !Number.isFinite(x)) || m.some((x) => !Number.isFinite(x))) refused = true;
    if (refused) continue;
    out.set(fid, lightCurveFeatures(t, m, sigma));
  }
  return out;
}

/** The 18 features of one band's light curve (t strictly increasing, m finite, sigma without NaN). */
export function lightCurveFeatures(t: number[], m: number[], sigma: number[]): AdFeatures {
  const n = m.length;
  const w = sigma.map((s) => s ** -2);
  const sorted = [...m].sort((a, b) => a - b);
  const sum = (xs: readonly number[]): number => xs.reduce((acc, x) => acc + x, 0);
  const mean = n > 0 ? sum(m) / n : Number.NaN;
  const std2 = n > 1 ? m.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (n - 1) : Number.NaN;
  const std = Math.sqrt(std2);
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const plateau = n > 0 && m.every((x) => x === m[0]);
  const median = n > 0 ? medianOfSorted(sorted) : Number.NaN;
  let wsum = 0;
  let wmsum = 0;
  for (let i = 0; i < n; i++) {
    wsum += w[i]!;
    wmsum += m[i]! * w[i]!;
  }
  const weightedMean = wmsum / wsum;
  let chi2sum = 0;
  for (let i = 0; i < n; i++) chi2sum += (m[i]! - weightedMean) ** 2 * w[i]!;
  const reducedChi2 = chi2sum / (n - 1);
  const flat = std === 0 || plateau;

  const amplitude = n >= 1 ? 0.5 * (max - min) : NaN;

  let anderson = NaN;
  if (n >= 4 && !flat) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const x = ((sorted[i]! - mean) / std) * Math.SQRT1_2;
      acc += (2 * i + 1) * lnErfc(-x) + (2 * (n - i) - 1) * lnErfc(x);
    }
    anderson = (1 + 4 / n - (5 / n) ** 2) * (n * (2 * Math.LN2 - 1) - acc / n);
  }

  let beyond = NaN;
  if (n >= 2) {
    let count = 0;
    for (const x of m) if (Math.abs(x - mean) > std) count++;
    beyond = count / n;
  }

  const chi2 = n >= 2 ? reducedChi2 : NaN;

  let cusum = NaN;
  if (n >= 2 && !flat) {
    let c = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of m) {
      c += x - mean;
      lo = Math.min(lo, c);
      hi = Math.max(hi, c);
    }
    cusum = (hi - lo) / (std * n);
  }

  let kurtosis = NaN;
  if (n >= 4 && !flat) {
    const m4 = m.reduce((acc, x) => acc + (x - mean) ** 4, 0);
    kurtosis =
      ((m4 / std2 ** 2) * n * (n + 1)) / ((n - 1) * (n - 2) * (n - 3)) -
      (3 * (n - 1) ** 2) / ((n - 2) * (n - 3));
  }

  const fit = n >= 3 ? straightLine(t, m, w, true) : undefined;
  const trend = n >= 3 ? straightLine(t, m, w, false) : undefined;

  let mpr2010 = NaN;
  let mpr405 = NaN;
  if (n >= 2) {
    mpr2010 = percentageRatio(sorted, 0.2, 0.1);
    mpr405 = percentageRatio(sorted, 0.4, 0.05);
  }

  let maximumSlope = NaN;
  if (n >= 2) {
    let best = -Infinity;
    for (let i = 1; i < n; i++) {
      const slope = Math.abs((m[i]! - m[i - 1]!) / (t[i]! - t[i - 1]!));
      if (Number.isFinite(slope) && slope > best) best = slope;
    }
    maximumSlope = best;
  }

  const mad = n >= 1 ? medianOfSorted(m.map((x) => Math.abs(x - median)).sort((a, b) => a - b)) : NaN;

  let mbrp = NaN;
  if (n >= 1) {
    const threshold = 0.1 * (0.5 * (max - min));
    let count = 0;
    for (const x of m) if (Math.abs(x - median) < threshold) count++;
    mbrp = count / n;
  }

  let skew = NaN;
  if (n >= 3 && !flat) {
    const m3 = m.reduce((acc, x) => acc + (x - mean) ** 3, 0);
    skew = ((m3 / std ** 3) * n) / ((n - 1) * (n - 2));
  }

  let stetsonK = NaN;
  if (n >= 2 && !(reducedChi2 === 0 || plateau)) {
    const chi2total = reducedChi2 * (n - 1);
    let acc = 0;
    for (let i = 0; i < n; i++) acc += Math.abs(m[i]! - weightedMean) * Math.sqrt(w[i]!);
    stetsonK = acc / Math.sqrt(n * chi2total);
  }

  return {
    amplitude,
    anderson_darling_normal: anderson,
    beyond_1_std: beyond,
    chi2,
    cusum,
    kurtosis,
    linear_fit_slope: fit?.slope ?? NaN,
    linear_fit_slope_sigma: fit === undefined ? NaN : Math.sqrt(fit.slopeSigma2),
    linear_trend_noise: trend === undefined ? NaN : Math.sqrt(trend.reducedChi2),
    linear_trend_sigma: trend === undefined ? NaN : Math.sqrt(trend.slopeSigma2),
    magnitude_percentage_ratio_20_10: mpr2010,
    magnitude_percentage_ratio_40_5: mpr405,
    maximum_slope: maximumSlope,
    median,
    median_absolute_deviation: mad,
    median_buffer_range_percentage_10: mbrp,
    skew,
    stetson_K: stetsonK,
  };
}

function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  const i = Math.floor((n - 1) / 2);
  return n % 2 === 0 ? 0.5 * (sorted[i]! + sorted[i + 1]!) : sorted[i]!;
}

/** light-curve's quantile: linear between order statistics, h = n q - 1/2, computed in float32. */
function ppf(sorted: readonly number[], q: number): number {
  const f = Math.fround;
  const h = f(f(sorted.length * q) - 0.5);
  const hFloor = Math.floor(h);
  if (hFloor < 0) return sorted[0]!;
  const i = hFloor;
  if (i >= sorted.length - 1) return sorted[sorted.length - 1]!;
  return sorted[i]! + f(h - hFloor) * (sorted[i + 1]! - sorted[i]!);
}

/** MagnitudePercentageRatio: its quantiles are float32 parameters. NaN (an error) when both ranges are 0. */
function percentageRatio(sorted: readonly number[], numeratorQ: number, denominatorQ: number): number {
  const f = Math.fround;
  const qn = f(numeratorQ);
  const qd = f(denominatorQ);
  const numerator = ppf(sorted, f(1 - qn)) - ppf(sorted, qn);
  const denominator = ppf(sorted, f(1 - qd)) - ppf(sorted, qd);
  if (numerator === 0 && denominator === 0) return Number.NaN;
  return numerator / denominator;
}

/** Straight-line fit (Press et al. 15.2) with weights (known errors) or without (then sigma from the scatter). */
function straightLine(
  t: readonly number[],
  m: readonly number[],
  w: readonly number[],
  knownErrors: boolean,
): { slope: number; slopeSigma2: number; reducedChi2: number } {
  const n = t.length;
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    const wi = knownErrors ? w[i]! : 1;
    s += wi;
    sx += wi * t[i]!;
    sy += wi * m[i]!;
  }
  if (!knownErrors) s = n;
  let stt = 0;
  let sty = 0;
  for (let i = 0; i < n; i++) {
    const wi = knownErrors ? w[i]! : 1;
    const tt = t[i]! - sx / s;
    stt += wi * tt ** 2;
    sty += wi * tt * m[i]!;
  }
  const slope = sty / stt;
  const intercept = (sy - sx * slope) / s;
  let slopeSigma2 = 1 / stt;
  let chi2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = knownErrors ? w[i]! : 1;
    chi2 += (m[i]! - intercept - slope * t[i]!) ** 2 * wi;
  }
  const reducedChi2 = chi2 / (n - 2);
  if (!knownErrors) slopeSigma2 *= reducedChi2;
  return { slope, slopeSigma2, reducedChi2 };
}
