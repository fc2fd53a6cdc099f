// The 47 statistics of LIA (Fink's fork, JulienPeloton/LIA@4513654, extract_features.extract_all with
// convert=True), which fink-science's microlensing module feeds to its random forest.
//
// Magnitudes become fluxes with zero point 24, then most statistics are taken on the flux normalised by its
// maximum. Several statistics are tsfresh's (0.20), one is peakutils' peak count, one integrates the error
// function (Shannon entropy). Conventions kept from numpy: np.std is the population deviation (ddof 0), the
// "mean" of many LIA statistics is in fact the median, percentiles interpolate linearly, and any infinite or NaN
// statistic becomes 0 at the end.
import { erf } from './erf.ts';

/** np.median: NaN when any value is NaN. */
function median(values: readonly number[]): number {
  if (values.some((v) => Number.isNaN(v))) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  const i = Math.floor(n / 2);
  return n % 2 === 1 ? s[i]! : (s[i - 1]! + s[i]!) / 2;
}

function mean(values: readonly number[]): number {
  let acc = 0;
  for (const v of values) acc += v;
  return acc / values.length;
}

/** np.std: population standard deviation. */
function std(values: readonly number[]): number {
  const m = mean(values);
  let acc = 0;
  for (const v of values) acc += (v - m) ** 2;
  return Math.sqrt(acc / values.length);
}

/** np.percentile with linear interpolation (numpy's lerp, which interpolates from the upper end past t = 0.5). */
function percentile(values: readonly number[], q: number): number {
  if (values.some((v) => Number.isNaN(v))) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const position = (q / 100) * (s.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = position - lo;
  const a = s[lo]!;
  const b = s[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function nanToNum(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x === Infinity) return Number.MAX_VALUE;
  if (x === -Infinity) return -Number.MAX_VALUE;
  return x;
}

function amplitude(values: readonly number[]): number {
  return percentile(values, 98) - percentile(values, 2);
}

/** Lengths of the runs of true values, [0] when none (tsfresh _get_length_sequences_where). */
function longestRun(flags: readonly boolean[]): number {
  let best = 0;
  let run = 0;
  for (const f of flags) {
    run = f ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function argmin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}

function countWhere(values: readonly number[], test: (v: number) => boolean): number {
  let n = 0;
  for (const v of values) if (test(v)) n++;
  return n;
}

/** LIA con / con2: runs of three consecutive points below median - k std, when at least 3 points are. */
function consecutive(mag: readonly number[], k: number): number {
  const threshold = median(mag) - k * std(mag);
  if (countWhere(mag, (v) => v < threshold) < 3) return 0;
  let count = 0;
  let deviating = false;
  for (let i = 0; i < mag.length - 2; i++) {
    if (mag[i]! <= threshold && mag[i + 1]! <= threshold && mag[i + 2]! <= threshold) {
      if (!deviating) {
        count++;
        deviating = true;
      } else {
        deviating = false;
      }
    }
  }
  return count;
}

/** peakutils.indexes(y, thres=0.5, min_dist=10), counted. */
function peakCount(y: readonly number[]): number {
  const n = y.length;
  if (n === 0) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of y) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const thres = 0.5 * (hi - lo) + lo;
  const minDist = 10;
  const dy: number[] = [];
  for (let i = 1; i < n; i++) dy.push(y[i]! - y[i - 1]!);
  const zeros: number[] = [];
  dy.forEach((d, i) => {
    if (d === 0) zeros.push(i);
  });
  if (zeros.length === n - 1) return 0;
  if (zeros.length > 0) {
    const plateaus: number[][] = [];
    for (const z of zeros) {
      const last = plateaus.at(-1);
      if (last !== undefined && z - last.at(-1)! === 1) last.push(z);
      else plateaus.push([z]);
    }
    if (plateaus[0]![0] === 0) {
      const first = plateaus.shift()!;
      const value = dy[first.at(-1)! + 1]!;
      for (const i of first) dy[i] = value;
    }
    if (plateaus.length > 0 && plateaus.at(-1)!.at(-1) === dy.length - 1) {
      const last = plateaus.pop()!;
      const value = dy[last[0]! - 1]!;
      for (const i of last) dy[i] = value;
    }
    for (const plateau of plateaus) {
      const mid = median(plateau);
      const leftValue = dy[plateau[0]! - 1]!;
      const rightValue = dy[plateau.at(-1)! + 1]!;
      for (const i of plateau) dy[i] = i < mid ? leftValue : rightValue;
    }
  }
  const peaks: number[] = [];
  for (let i = 0; i < n; i++) {
    const after = i < dy.length ? dy[i]! : 0;
    const before = i > 0 ? dy[i - 1]! : 0;
    if (after < 0 && before > 0 && y[i]! > thres) peaks.push(i);
  }
  if (peaks.length > 1 && minDist > 1) {
    // Highest first (numpy's argsort then reversed: ties keep the later index first).
    const highest = [...peaks].sort((a, b) => y[a]! - y[b]! || a - b).reverse();
    const removed = new Array<boolean>(n).fill(true);
    for (const p of peaks) removed[p] = false;
    for (const peak of highest) {
      if (!removed[peak]) {
        for (let i = Math.max(0, peak - minDist); i < Math.min(n, peak + minDist + 1); i++) removed[i] = true;
        removed[peak] = false;
      }
    }
    return removed.filter((r) => !r).length;
  }
  return peaks.length;
}

/** tsfresh sample_entropy (m = 2, r = 0.2 std). */
function sampleEntropy(x: readonly number[]): number {
  if (x.some((v) => Number.isNaN(v))) return Number.NaN;
  const tolerance = 0.2 * std(x);
  const matches = (m: number): number => {
    const windows = x.length - m + 1;
    let total = 0;
    for (let i = 0; i < windows; i++) {
      let count = 0;
      for (let j = 0; j < windows; j++) {
        let dist = 0;
        for (let k = 0; k < m; k++) dist = Math.max(dist, Math.abs(x[i + k]! - x[j + k]!));
        if (dist <= tolerance) count++;
      }
      total += count - 1;
    }
    return total;
  };
  return -Math.log(matches(3) / matches(2));
}

function shannonEntropy(mag: readonly number[], magerr: readonly number[]): number {
  const center = median(mag);
  const rms = Math.sqrt(center ** 2);
  const gauss = (x: number): number => 0.5 * (1 + erf(x));
  const invGauss = (x: number, y: number): number =>
    0.5 * (1 + erf(x)) + 0.5 * Math.E ** ((2 * rms) / center) * (1 - erf(y));
  const positive = (v: number): number => (v > 0 ? v : 1);
  let e1 = 0;
  let e2 = 0;
  for (let i = 0; i < mag.length; i++) {
    const delta = magerr[i]! * 2;
    const up = mag[i]! + magerr[i]!;
    const down = mag[i]! - magerr[i]!;
    const p1 = positive(gauss((up - center) / (rms * Math.SQRT2)));
    const p2 = positive(gauss((down - center) / (rms * Math.SQRT2)));
    const s1 = Math.sqrt(rms / (2 * up));
    const s2 = Math.sqrt(rms / (2 * down));
    const q1 = positive(invGauss(s1 * (up / center - 1), s1 * (up / center + 1)));
    const q2 = positive(invGauss(s2 * (down / center - 1), s2 * (down / center + 1)));
    e1 += Math.log2(p1) * delta + Math.log2(p2) * delta;
    e2 += Math.log2(q1) * delta + Math.log2(q2) * delta;
  }
  return nanToNum(-e1 + -e2);
}

function stetsonJ(mag: readonly number[], magerr: readonly number[]): number {
  const n = mag.length;
  const center = median(mag);
  const scale = Math.sqrt(n / (n - 1));
  let acc = 0;
  for (let i = 0; i < n - 1; i++) {
    const d1 = scale * ((mag[i]! - center) / magerr[i]!);
    const d2 = scale * ((mag[i + 1]! - center) / magerr[i + 1]!);
    const p = nanToNum(d1 * d2);
    acc += Math.sign(p) * Math.sqrt(Math.abs(p));
  }
  return acc;
}

function stetsonK(mag: readonly number[], magerr: readonly number[]): number {
  const n = mag.length;
  const center = median(mag);
  const scale = Math.sqrt(n / (n - 1));
  let sumAbs = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const d = scale * ((mag[i]! - center) / magerr[i]!);
    sumAbs += Math.abs(d);
    sumSq += d ** 2;
  }
  return nanToNum(((1 / n) * sumAbs) / Math.sqrt((1 / n) * sumSq));
}

/** np.corrcoef(x[:-1], x[1:])[1, 0]. */
function autoCorrelation(x: readonly number[]): number {
  const a = x.slice(0, -1);
  const b = x.slice(1);
  const ma = mean(a);
  const mb = mean(b);
  let cab = 0;
  let caa = 0;
  let cbb = 0;
  for (let i = 0; i < a.length; i++) {
    cab += (a[i]! - ma) * (b[i]! - mb);
    caa += (a[i]! - ma) ** 2;
    cbb += (b[i]! - mb) ** 2;
  }
  const n1 = a.length - 1;
  const r = cab / n1 / Math.sqrt(caa / n1) / Math.sqrt(cbb / n1);
  return Number.isNaN(r) ? r : Math.min(1, Math.max(-1, r));
}

/** The 47 statistics, in LIA's order, from magnitudes and their errors. */
export function liaStatistics(mag: readonly number[], magerr: readonly number[]): number[] {
  const n = mag.length;
  const flux = mag.map((m) => 10 ** (-(m - 24) / 2.5));
  const fluxErr = magerr.map((e, i) => ((e * flux[i]!) / 2.5) * Math.log(10));
  const amp = amplitude(flux);
  const fluxMedian = median(flux);
  const medBuffRng = countWhere(flux, (f) => f > fluxMedian - amp / 10 && f < fluxMedian + amp / 10) / n;
  const medBuffRng2 = countWhere(flux, (f) => f < fluxMedian - amp / 5) / n;
  const maxFlux = Math.max(...flux);
  const x = flux.map((f) => f / maxFlux);
  const xe = fluxErr.map((e, i) => e * (x[i]! / flux[i]!));

  const med = median(x);
  const sd = std(x);
  const avg = mean(x);
  const diffs: number[] = [];
  for (let i = 1; i < n; i++) diffs.push(x[i]! - x[i - 1]!);
  const stetJ = stetsonJ(x, xe);
  const stetK = stetsonK(x, xe);

  const kurtosis =
    ((n * (n + 1)) / ((n - 1) * (n - 2) * (n - 3))) * x.reduce((acc, v) => acc + ((v - med) / sd) ** 4, 0) -
    (3 * (n - 1) ** 2) / ((n - 2) * (n - 3));
  const skewness = (1 / n) * x.reduce((acc, v) => acc + (v - med) ** 3 / sd ** 3, 0);
  const vonNeumann = diffs.reduce((acc, d) => acc + d ** 2 / (n - 1), 0) / sd ** 2;

  let trapz = 0;
  for (let i = 1; i < n; i++) trapz += (x[i]! + x[i - 1]!) / 2;

  let c3 = 0;
  let tras = 0;
  if (n > 2) {
    for (let i = 0; i < n - 2; i++) {
      c3 += x[i + 2]! * x[i + 1]! * x[i]!;
      tras += x[i + 2]! * x[i + 2]! * x[i + 1]! - x[i + 1]! * x[i]! * x[i]!;
    }
    c3 /= n - 2;
    tras /= n - 2;
  }

  let cid = 0;
  if (sd !== 0) {
    const z = x.map((v) => (v - avg) / sd);
    let acc = 0;
    for (let i = 1; i < n; i++) acc += (z[i]! - z[i - 1]!) ** 2;
    cid = Math.sqrt(acc);
  }

  const maxX = Math.max(...x);
  const minX = Math.min(...x);
  const reversed = [...x].reverse();
  const counts = new Map<number, number>();
  for (const v of x) counts.set(v, (counts.get(v) ?? 0) + 1);

  const stats = [
    countWhere(x, (v) => v > med + sd),
    countWhere(x, (v) => v > med + 3 * sd),
    countWhere(x, (v) => v > med + 5 * sd),
    x.reduce((acc, v) => acc + v * v, 0),
    diffs.reduce((acc, d) => acc + Math.abs(d), 0),
    amp,
    autoCorrelation(x),
    countWhere(x, (v) => v < med - sd),
    countWhere(x, (v) => v < med - 3 * sd),
    countWhere(x, (v) => v < med - 5 * sd),
    c3,
    counts.size !== n ? 1 : 0,
    countWhere(x, (v) => v === maxX) >= 2 ? 1 : 0,
    countWhere(x, (v) => v === minX) >= 2 ? 1 : 0,
    1 - argmax(reversed) / n,
    1 - argmin(reversed) / n,
    cid,
    consecutive(x, 3),
    consecutive(x, 2),
    countWhere(x, (v) => v > avg),
    countWhere(x, (v) => v < avg),
    argmax(x) / n,
    argmin(x) / n,
    trapz,
    kurtosis,
    longestRun(x.map((v) => v > avg)),
    longestRun(x.map((v) => v < avg)),
    diffs.reduce((acc, d) => acc + Math.abs(d), 0) / diffs.length,
    n > 1 ? (x[n - 1]! - x[0]!) / (n - 1) : Number.NaN,
    n > 2 ? (x[n - 1]! - x[n - 2]! - x[1]! + x[0]!) / (2 * (n - 2)) : Number.NaN,
    median(x.map((v) => Math.abs(v - med))),
    medBuffRng,
    medBuffRng2,
    peakCount(x.map((v) => Math.abs(v - med))),
    [...counts.values()].filter((c) => c > 1).length / counts.size,
    Math.sqrt(med ** 2),
    sampleEntropy(x),
    shannonEntropy(x, xe),
    skewness,
    sd,
    sd / med,
    stetJ,
    stetK,
    (stetJ * stetK) / 0.798,
    x.reduce((acc, v) => acc + v, 0),
    tras,
    vonNeumann,
  ];
  return stats.map((v) => (Number.isFinite(v) ? v : 0));
}
