// Light-curve features of the object, from the history the alert carries (alert.points): one pass over the
// points sorted by time, no fitting. Cheap enough to run on every alert; classifiers read them.
//
// What counts:
// - A detection is a point of kind 'detection' with a measurement (a magnitude or a flux), whatever the sign of
//   its difference flux: a negative difference (ZTF isdiffpos 'f', Rubin psfFlux < 0: the source is fainter
//   than in the reference image) is a flux decrease, not a missing point. Fink counts them (nalerthist, every
//   module's minimum-points cut), and so do the detection counts and first/last detection dates here, so that
//   they agree with the points a light curve plots.
// - Magnitude features (first, peak and last magnitude, rates, colour, rising) use the positive detections only:
//   a negative difference carries the magnitude of |flux|, which is not the object's brightness.
// - Upper limits (ZTF non-detections) are counted per band and used for one thing: an object seen once
//   in a band, brighter than the last limit before it, is rising.
// - Rubin forced photometry is not used: measured at the object's position whether it was detected or not, it
//   is not a detection.
//
// Magnitudes: smaller is brighter, so the peak is the minimum magnitude, and a positive rate is fading.
import type { Alert, Band, PhotometryPoint } from '../alert.ts';
import { ok } from '../framework.ts';
import type { Step } from '../framework.ts';

export interface BandFeatures {
  /** Detections, negative ones included. */
  detections: number;
  upperLimits: number;
  /** Julian dates of the first and last positive detections (firstMag, lastMag); null without any. */
  firstJd: number | null;
  lastJd: number | null;
  firstMag: number | null;
  /** Brightest (minimum) magnitude and when; the earliest when tied. */
  peakMag: number | null;
  peakJd: number | null;
  lastMag: number | null;
  /**
   * (lastMag - previousMag) / (lastJd - previousJd) [mag/day], + = fading: the last detection and the latest
   * one at least `rateMinBaselineDays` before it. Null when there is no such pair.
   */
  rate: number | null;
  /** First-order error of `rate` from the two magnitude errors; null when either error is unknown. */
  rateErr: number | null;
}

export interface LightCurveFeatures {
  /** Bands with at least one detection or upper limit. */
  bands: Partial<Record<Band, BandFeatures>>;
  /** Detections over all bands, negative ones included. */
  detections: number;
  /** Julian dates of the first and last detections, negative ones included; null without detections. */
  firstDetectionJd: number | null;
  lastDetectionJd: number | null;
  /**
   * g - r at the latest epoch with a detection in both bands, an epoch being a g and an r detection at most
   * `colorWindowDays` apart. The default, 0.5 day, means the same night (colour is meant as same-night
   * photometry, as Fink uses it): two exposures of one night are never further apart. Null when no such
   * pair exists.
   */
  colorGR: number | null;
  /** The later jd of the pair colorGR was measured on. */
  colorGRJd: number | null;
  /**
   * The most recent per-band rate: that of the band whose rate ends latest (mixing bands in one rate would
   * mix colour into it). Null when no band has a rate.
   */
  rate: number | null;
  rateErr: number | null;
  rateBand: Band | null;
  /**
   * True when `rate` < 0, false when >= 0. Without any rate: true when the latest detection is brighter than
   * the last upper limit before it in its band, else null (nothing to compare with).
   */
  rising: boolean | null;
}

export interface FeaturesFields {
  features: LightCurveFeatures;
}

export interface FeaturesOptions {
  /** Maximum separation of a g and an r detection that form one colour epoch [days]. */
  colorWindowDays?: number;
  /**
   * Shortest time between the two detections a rate is measured over [days]; 0 takes the last two detections
   * whatever their separation (they must still differ in time).
   */
  rateMinBaselineDays?: number;
}

export const DEFAULT_COLOR_WINDOW_DAYS = 0.5;
/**
 * Surveys often revisit a field within the hour (ZTF takes pairs to catch asteroids). Over 30 minutes, 0.05 mag
 * of photometric noise reads as 2.4 mag/day, faster than any kilonova; half a day keeps rates to different
 * nights, where the time baseline dominates the noise.
 */
export const DEFAULT_RATE_MIN_BASELINE_DAYS = 0.5;

interface Detection {
  jd: number;
  mag: number;
  magErr: number | null;
}

interface BandState {
  features: BandFeatures;
  /** Detections in time order. */
  detections: Detection[];
  /** The most recent upper limit seen so far, and the one that preceded the last detection. */
  limit: PhotometryPoint | null;
  limitBeforeLast: PhotometryPoint | null;
}

function finite(x: number | null): x is number {
  return x !== null && Number.isFinite(x);
}

/** A detection of either sign with a measurement: what the detection counts count. */
function isDetection(point: PhotometryPoint): boolean {
  return point.kind === 'detection' && (finite(point.mag) || finite(point.flux));
}

/** A positive detection with a magnitude: what the magnitude features read. */
function isPositiveDetection(point: PhotometryPoint): point is PhotometryPoint & { mag: number } {
  return isDetection(point) && finite(point.mag) && !point.negative;
}

function emptyBand(): BandState {
  return {
    features: {
      detections: 0,
      upperLimits: 0,
      firstJd: null,
      lastJd: null,
      firstMag: null,
      peakMag: null,
      peakJd: null,
      lastMag: null,
      rate: null,
      rateErr: null,
    },
    detections: [],
    limit: null,
    limitBeforeLast: null,
  };
}

/** The rate over the last detection and the latest one at least `minBaseline` days (and some time) before it. */
function rateOf(
  detections: readonly Detection[],
  minBaseline: number,
): { rate: number; rateErr: number | null } | null {
  const last = detections.at(-1);
  if (last === undefined) return null;
  for (let i = detections.length - 2; i >= 0; i--) {
    const previous = detections[i]!;
    const dt = last.jd - previous.jd;
    if (!(dt > 0) || dt < minBaseline) continue;
    const rateErr =
      previous.magErr === null || last.magErr === null ? null : Math.hypot(previous.magErr, last.magErr) / dt;
    return { rate: (last.mag - previous.mag) / dt, rateErr };
  }
  return null;
}

/** g - r at the latest epoch with both bands, from detections sorted by jd. */
function latestColor(
  g: readonly Detection[],
  r: readonly Detection[],
  windowDays: number,
): { colorGR: number | null; colorGRJd: number | null } {
  let best: { epoch: number; separation: number; color: number } | null = null;
  for (const gd of g) {
    for (const rd of r) {
      const separation = Math.abs(gd.jd - rd.jd);
      if (separation > windowDays) continue;
      const epoch = Math.max(gd.jd, rd.jd);
      if (best === null || epoch > best.epoch || (epoch === best.epoch && separation < best.separation)) {
        best = { epoch, separation, color: gd.mag - rd.mag };
      }
    }
  }
  return best === null ? { colorGR: null, colorGRJd: null } : { colorGR: best.color, colorGRJd: best.epoch };
}

/** The features of one light curve; `points` in any order. */
export function computeLightCurveFeatures(
  points: readonly PhotometryPoint[],
  options: FeaturesOptions = {},
): LightCurveFeatures {
  const colorWindowDays = options.colorWindowDays ?? DEFAULT_COLOR_WINDOW_DAYS;
  const rateMinBaselineDays = options.rateMinBaselineDays ?? DEFAULT_RATE_MIN_BASELINE_DAYS;
  const sorted = [...points].sort((a, b) => a.jd - b.jd);
  const states = new Map<Band, BandState>();
  let detections = 0;
  let firstDetectionJd: number | null = null;
  let lastDetectionJd: number | null = null;
  let latest: { band: Band; mag: number } | null = null;

  const stateOf = (band: Band): BandState => {
    let state = states.get(band);
    if (state === undefined) {
      state = emptyBand();
      states.set(band, state);
    }
    return state;
  };

  for (const point of sorted) {
    if (point.kind === 'upper-limit') {
      const state = stateOf(point.band);
      state.features.upperLimits++;
      state.limit = point;
      continue;
    }
    if (!isDetection(point)) continue;
    const state = stateOf(point.band);
    const f = state.features;
    f.detections++;
    detections++;
    firstDetectionJd ??= point.jd;
    lastDetectionJd = point.jd;
    if (!isPositiveDetection(point)) continue;
    const detection: Detection = { jd: point.jd, mag: point.mag, magErr: point.magErr };
    f.firstJd ??= point.jd;
    f.firstMag ??= point.mag;
    if (f.peakMag === null || point.mag < f.peakMag) {
      f.peakMag = point.mag;
      f.peakJd = point.jd;
    }
    f.lastJd = point.jd;
    f.lastMag = point.mag;
    state.detections.push(detection);
    state.limitBeforeLast = state.limit;
    latest = { band: point.band, mag: point.mag };
  }

  const bands: Partial<Record<Band, BandFeatures>> = {};
  let rateBand: Band | null = null;
  let rateEnd = -Infinity;
  for (const [band, state] of states) {
    const measured = rateOf(state.detections, rateMinBaselineDays);
    if (measured !== null) {
      Object.assign(state.features, measured);
      const end = state.features.lastJd!;
      if (end > rateEnd) {
        rateEnd = end;
        rateBand = band;
      }
    }
    bands[band] = state.features;
  }

  const rate = rateBand === null ? null : (bands[rateBand]?.rate ?? null);
  const rateErr = rateBand === null ? null : (bands[rateBand]?.rateErr ?? null);
  let rising: boolean | null = rate === null ? null : rate < 0;
  if (rising === null && latest !== null) {
    const limit = states.get(latest.band)?.limitBeforeLast ?? null;
    if (limit !== null && limit.limitMag !== null && limit.limitMag > latest.mag) rising = true;
  }

  return {
    bands,
    detections,
    firstDetectionJd,
    lastDetectionJd,
    ...latestColor(states.get('g')?.detections ?? [], states.get('r')?.detections ?? [], colorWindowDays),
    rate,
    rateErr,
    rateBand,
    rising,
  };
}

/** Adds `features`, computed from alert.points only. */
export function createFeaturesStep<A extends Alert>(
  options: FeaturesOptions = {},
): Step<A, A & FeaturesFields> {
  const resolved: Required<FeaturesOptions> = {
    colorWindowDays: options.colorWindowDays ?? DEFAULT_COLOR_WINDOW_DAYS,
    rateMinBaselineDays: options.rateMinBaselineDays ?? DEFAULT_RATE_MIN_BASELINE_DAYS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!(value >= 0)) throw new RangeError(`features option ${name} must be a number >= 0, got ${value}`);
  }
  return function lightCurveFeatures(alert) {
    return ok({ ...alert, features: computeLightCurveFeatures(alert.points, resolved) });
  };
}
