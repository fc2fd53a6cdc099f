// Heuristic classifier plugins: hand-written rules over the light-curve features and a few survey fields. Optional
// (config `pipeline.heuristicClassifiers`, none by default): the pipeline scores and labels alerts with Fink's
// trained classifiers (src/pipeline/classifiers/fink); these may run besides them, their scores stored under
// heuristic_* names.
//
// These are NOT trained models and make no claim to Fink's performance: they encode the astrophysical
// expectations Fink's models learn (young and rising, blue, off a star, SN-like or very fast evolution, symmetric
// lensing bump) with hand-picked thresholds.
// Each documents its rule; every threshold is a named number in it.
//
// Shared vocabulary:
// - age: days since the object's first detection. ZTF: jd - jdstarthist (the survey-long history, ZTF's
//   1.5" association); otherwise jd - the first detection in the alert's history.
// - detections: ZTF ndethist (survey-long); otherwise detections in the alert's history.
// - near a star: ZTF's nearest Pan-STARRS1 source lies within 1.5" and has sgscore1 >= 0.5 (Tachibana & Miller
//   star/galaxy score). sgscore1 alone describes the nearest PS1 source, which may be up to 30" away, so the
//   distance matters. Unknown (null) for Rubin alerts, which carry no such score.
// - Fink's label filters also refuse alerts flagged as known solar-system objects (roid 3); so do these.
import type { Band } from '../alert.ts';
import type { BandFeatures } from '../steps/features.step.ts';
import type { Classifier, ClassifierInput } from './classifier.ts';

const NEAR_STAR_ARCSEC = 1.5;
const STAR_SGSCORE = 0.5;

interface Context {
  ageDays: number | null;
  detections: number;
  nearStar: boolean | null;
}

function context(alert: ClassifierInput): Context {
  const { features } = alert;
  const historyAge = features.firstDetectionJd === null ? null : alert.jd - features.firstDetectionJd;
  if (alert.survey !== 'ztf') return { ageDays: historyAge, detections: features.detections, nearStar: null };
  const { jdstarthist, ndethist, sgscore1, distpsnr1 } = alert.ztf.candidate;
  return {
    ageDays: jdstarthist === null ? historyAge : alert.jd - jdstarthist,
    detections: ndethist ?? features.detections,
    // distpsnr1 = -999: no PS1 source within 30".
    nearStar:
      distpsnr1 !== null &&
      sgscore1 !== null &&
      distpsnr1 >= 0 &&
      distpsnr1 <= NEAR_STAR_ARCSEC &&
      sgscore1 >= STAR_SGSCORE,
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Linear from 0 at x0 to 1 at x1, clamped; x0 > x1 gives a decreasing ramp. */
export function ramp(x: number, x0: number, x1: number): number {
  return clamp01((x - x0) / (x1 - x0));
}

/** 0 outside [a, d], 1 on [b, c], linear in between. */
export function trapezoid(x: number, a: number, b: number, c: number, d: number): number {
  return Math.min(ramp(x, a, b), ramp(x, d, c));
}

const ZTF_CONTEXT_INPUTS = [
  'ztf.candidate.jdstarthist',
  'ztf.candidate.ndethist',
  'ztf.candidate.sgscore1',
  'ztf.candidate.distpsnr1',
] as const;

/** The rise factor of snia_early when the rise rests on an upper limit alone (no rate). */
const RISE_FROM_LIMIT_ONLY = 0.5;

/**
 * Early SN Ia: young, rising at a SN Ia-like pace, blue-ish, not on a star.
 * - 0 when: a known solar-system object, near a star, not rising, more than 20 detections (Fink's early SN Ia
 *   filter also requires ndethist <= 20).
 * - score = youth x rise x (0.5 + 0.5 colour), where youth is 1 up to 10 days old and 0 from 30 days (a SN Ia
 *   rises for ~18 days); rise is 1 for brightening at 0.02-0.3 mag/day, 0 at 0 and from 0.6 mag/day, and 0.5
 *   when the rise is only known from an upper limit; colour is 1 for -0.3 <= g-r <= 0.3, 0 beyond -0.6 or 0.7,
 *   0.5 when unknown. So a red object, or one whose rise rests on a single detection, cannot score above 0.5.
 * - null when the light curve says nothing about rising (one detection, no deeper limit before it).
 */
export const SNIA_EARLY: Classifier = {
  name: 'heuristic_snia_early',
  version: '1.0.0',
  survey: 'both',
  inputs: [
    'jd',
    'roid',
    'features.rising',
    'features.rate',
    'features.colorGR',
    'features.firstDetectionJd',
    'features.detections',
    ...ZTF_CONTEXT_INPUTS,
  ],
  score(alert) {
    const { features } = alert;
    if (features.rising === null) return null;
    const ctx = context(alert);
    if (alert.roid === 3 || ctx.nearStar === true || !features.rising || ctx.detections > 20) return 0;
    if (ctx.ageDays === null) return null;
    const youth = ramp(ctx.ageDays, 30, 10);
    const rise = features.rate === null ? RISE_FROM_LIMIT_ONLY : trapezoid(-features.rate, 0, 0.02, 0.3, 0.6);
    const blue = features.colorGR === null ? 0.5 : trapezoid(features.colorGR, -0.6, -0.3, 0.3, 0.7);
    return youth * rise * (0.5 + 0.5 * blue);
  },
};

/**
 * SN candidate: an extragalactic-looking transient evolving at supernova pace.
 * - 0 when: a known solar-system object, near a star, fewer than 3 detections, older than 90 days (Fink's SN
 *   filter: ndethist > 1, jd - jdstarthist <= 90, roid != 3).
 * - score = pace x bands: pace is 1 for |rate| in 0.01-0.15 mag/day, 0 below 0.002 (flat: a variable or a
 *   galaxy residual) and from 0.3 (too fast: kilonova, flare, bogus); bands is 1 with detections in two bands,
 *   0.8 with one.
 * - null without a rate (no band with two detections in the alert history).
 */
export const SN_CANDIDATE: Classifier = {
  name: 'heuristic_sn_candidate',
  version: '1.0.0',
  survey: 'both',
  inputs: [
    'jd',
    'roid',
    'features.rate',
    'features.bands',
    'features.firstDetectionJd',
    'features.detections',
    ...ZTF_CONTEXT_INPUTS,
  ],
  score(alert) {
    const { features } = alert;
    const ctx = context(alert);
    if (alert.roid === 3 || ctx.nearStar === true || ctx.detections < 3) return 0;
    if (ctx.ageDays === null || ctx.ageDays > 90) return 0;
    if (features.rate === null) return null;
    const pace = trapezoid(Math.abs(features.rate), 0.002, 0.01, 0.15, 0.3);
    const detectedBands = Object.values(features.bands).filter((band) => band.detections > 0).length;
    return pace * (detectedBands >= 2 ? 1 : 0.8);
  },
};

/**
 * Kilonova: very young and fading fast (a kilonova fades by ~0.3-1 mag/day within days).
 * - 0 when: a known solar-system object, near a star, 20 or more detections (Fink's kilonova filter: ndethist
 *   < 20, jd - jdstarthist < 5, roid != 3).
 * - score = youth x fade: youth is 1 up to 5 days old, 0 from 10 days; fade is 0 at 0.1 mag/day and 1 from 0.5,
 *   so 0.5 at 0.3 mag/day. The fade used is rate - rateErr, a one-sigma lower bound: two noisy points taken
 *   an hour apart are not a fast fade.
 * - null without a rate.
 */
export const KILONOVA: Classifier = {
  name: 'heuristic_kilonova',
  version: '1.0.0',
  survey: 'both',
  inputs: [
    'jd',
    'roid',
    'features.rate',
    'features.rateErr',
    'features.firstDetectionJd',
    'features.detections',
    ...ZTF_CONTEXT_INPUTS,
  ],
  score(alert) {
    const { features } = alert;
    const ctx = context(alert);
    if (alert.roid === 3 || ctx.nearStar === true || ctx.detections >= 20) return 0;
    if (features.rate === null || ctx.ageDays === null) return null;
    const fade = features.rate - (features.rateErr ?? 0);
    return ramp(ctx.ageDays, 10, 5) * ramp(fade, 0.1, 0.5);
  },
};

/**
 * Microlensing: a single, roughly symmetric brightening of a star over a long baseline (the lens passing in
 * front of a background star brightens it achromatically and symmetrically in time).
 * Judged in the band with the most detections (ties: the first in u, g, r, i, z, y order):
 * - null with fewer than 5 detections in that band; 0 for a known solar-system object or when the peak is at
 *   either end of the light curve (still rising or already fading: no bump).
 * - score = symmetry x baseline x amplitude x star: symmetry = 1 - |rise - fade| / (rise + fade) with rise and
 *   fade the mean speeds first->peak and peak->last [mag/day]; baseline 0 at 5 days, 1 from 20; amplitude 0
 *   at 0.1 mag, 1 from 0.5 mag; star 1 near a star, 0.3 when not (so it cannot pass 0.5), 0.6 when unknown.
 * ZTF alerts carry 30 days of history, shorter than most lensing events: expect this to fire on the
 * short ones only.
 */
export const MICROLENSING: Classifier = {
  name: 'heuristic_microlensing',
  version: '1.0.0',
  survey: 'both',
  inputs: ['roid', 'features.bands', 'ztf.candidate.sgscore1', 'ztf.candidate.distpsnr1'],
  score(alert) {
    let best: BandFeatures | undefined;
    for (const band of ['u', 'g', 'r', 'i', 'z', 'y'] as const satisfies readonly Band[]) {
      const candidate = alert.features.bands[band];
      if (candidate !== undefined && (best === undefined || candidate.detections > best.detections)) {
        best = candidate;
      }
    }
    if (best === undefined || best.detections < 5) return null;
    if (alert.roid === 3) return 0;
    const { firstJd, firstMag, peakJd, peakMag, lastJd, lastMag } = best;
    if (firstJd === null || firstMag === null || peakJd === null || peakMag === null) return null;
    if (lastJd === null || lastMag === null) return null;
    if (!(peakJd > firstJd && peakJd < lastJd)) return 0;
    const rise = (firstMag - peakMag) / (peakJd - firstJd);
    const fade = (lastMag - peakMag) / (lastJd - peakJd);
    if (!(rise > 0 && fade > 0)) return 0;
    const symmetry = 1 - Math.abs(rise - fade) / (rise + fade);
    const baseline = ramp(lastJd - firstJd, 5, 20);
    const amplitude = ramp(Math.min(firstMag, lastMag) - peakMag, 0.1, 0.5);
    const { nearStar } = context(alert);
    const star = nearStar === true ? 1 : nearStar === false ? 0.3 : 0.6;
    return symmetry * baseline * amplitude * star;
  },
};

/** The built-in classifiers by name: what `pipeline.heuristicClassifiers` in the config may list. */
export const BUILTIN_CLASSIFIERS: Readonly<Record<string, Classifier>> = Object.freeze({
  [SNIA_EARLY.name]: SNIA_EARLY,
  [SN_CANDIDATE.name]: SN_CANDIDATE,
  [KILONOVA.name]: KILONOVA,
  [MICROLENSING.name]: MICROLENSING,
});

/** The classifiers the config enables, in its order. Throws on an unknown or repeated name. */
export function resolveClassifiers(
  names: readonly string[],
  registry: Readonly<Record<string, Classifier>> = BUILTIN_CLASSIFIERS,
): Classifier[] {
  const seen = new Set<string>();
  return names.map((name) => {
    if (!Object.hasOwn(registry, name)) {
      throw new Error(
        `unknown classifier '${name}' in pipeline.heuristicClassifiers; known: ${Object.keys(registry).join(', ')}`,
      );
    }
    if (seen.has(name))
      throw new Error(`classifier '${name}' is listed twice in pipeline.heuristicClassifiers`);
    seen.add(name);
    return registry[name]!;
  });
}
