// Classifies every alert of a batch: Fink's trained classifiers (fink-science 7.4.0, src/pipeline/classifiers/fink)
// score it, with each score's provenance (model file, its SHA-256, fink-science version), and its label is Fink's
// (fink-filters extract_fink_classification, src/pipeline/classifiers/fink/label.ts) on those scores. A batch
// step: the anomaly forests (onnxruntime) run once per batch.
//
// ZTF: the label is Fink's `finkclass`. Its `cdsxmatch` (SIMBAD's type in Fink) is the type of the nearest match
// of an "overriding" catalog (an operator's SIMBAD export, `fink catalog load --overriding`), 'Unknown' without
// one: SIMBAD itself is not reachable from the pipeline.
// Rubin: Fink computes no label for Rubin here (fink-filters' rules are ZTF's); its scores are stored (SuperNNova
// snnSnVsOthers_score) and the label comes from labelOf below: roid, tracklet, an overriding catalog's type, and
// the optional heuristic plugins when enabled.
//
// The heuristic plugins (src/pipeline/classifiers/builtin.ts, `pipeline.heuristicClassifiers`, none by default)
// run after Fink's; their scores are stored next to Fink's, named heuristic_*, and feed only labelOf (Rubin).
//
// Failures: a classifier that throws or answers something that is not a score (NaN, infinite; outside [0, 1] for
// a heuristic) for one alert leaves that alert's score null, counted in fink_classifier_failures_total; the
// alert goes on. When Fink's batch call throws, each alert is classified alone, so one alert cannot null the
// scores of the others.
//
// labelOf follows extract_fink_classification_ for the heuristic scores. Labels are applied in this order, a
// later one replacing an earlier one:
//   Microlensing candidate   heuristic_microlensing score > threshold  counts towards ambiguity
//   SN candidate             heuristic_sn_candidate score > threshold  counts towards ambiguity
//   Early SN Ia candidate    heuristic_snia_early score > threshold
//   Kilonova candidate       heuristic_kilonova score > threshold
//   Solar System candidate   roid == 2                                 counts towards ambiguity
//   Tracklet                 alert.tracklet == true
//   Solar System MPC         roid == 3                                 counts towards ambiguity
//
// then 'Ambiguous' when more than one of the counted flags is up, then a catalog type replaces all of it when
// an "overriding" catalog matched (Fink: np.where(f_simbad, cdsxmatch, classification), SIMBAD overriding even
// Ambiguous); 'Unknown' when nothing applies.
//
// A heuristic flags its label when its score is > `threshold` (0.5, strictly greater, as Fink's filters).
//
// Tracklet: Fink tags alerts lying on a satellite or debris streak found across the alerts of one exposure
// (fink-broker tracklet_identification, label 'TRCK_...'). Nothing in a ZTF alert says so on its own, so this
// stage takes an optional boolean `tracklet` that an upstream batch stage may set; absent means no.
//
// Override: Fink overrides with any SIMBAD type except 'Unknown', 'Transient', 'Fail*' (cross-match failures)
// and 'Galaxy*' (a host, not the transient: fink-filters issue #120), see filter_simbad_candidates. Which
// catalogs override is the cross-match stage's `overriding` flag; which of their types do is `overridingTypes`.
import { appliesTo, NO_MODEL } from '../classifiers/classifier.ts';
import type { Classifier, ClassifierInput, ClassifierScore } from '../classifiers/classifier.ts';
import { FINK_ZTF_SCORES } from '../classifiers/fink/index.ts';
import { FINK_LABELS } from '../classifiers/fink/label.ts';
import type { FinkClassifierInput, FinkClassifiers, ScoreSet } from '../classifiers/fink/index.ts';
import { ok } from '../framework.ts';
import type { BatchStep } from '../framework.ts';

/** The part of a cross-match this stage reads (the cross-match stage writes more). */
export interface CrossmatchForLabel {
  catalog: string;
  distanceArcsec: number;
  type: string | null;
  overriding: boolean;
}

export type ClassificationInput = ClassifierInput & {
  crossmatches?: readonly CrossmatchForLabel[];
  /** The alert lies on a tracklet (satellite glint, debris). */
  tracklet?: boolean;
};

export interface Classification {
  label: string;
  /**
   * Fink's scores for the alert's survey, then one per heuristic plugin in config order; score null when the
   * classifier did not apply or failed.
   */
  scores: ClassifierScore[];
  /** Classifiers that failed on this alert (their score is null), counted by the service; absent when none. */
  failures?: ClassifierFailure[];
}

/** 'threw': the classifier threw; 'not-a-score': it returned something outside [0, 1] (NaN included). */
export interface ClassifierFailure {
  classifier: string;
  reason: 'threw' | 'not-a-score';
}

export interface ClassificationFields {
  classification: Classification;
}

/** Decides whether a matched type from an overriding catalog may replace the label. */
export type OverridingTypePolicy = (type: string, catalog: string) => boolean;

/** Fink's rule for SIMBAD (filter_simbad_candidates), applied to every overriding catalog. */
export const FINK_OVERRIDING_TYPES: OverridingTypePolicy = (type) =>
  type !== 'Unknown' && type !== 'Transient' && !type.startsWith('Fail') && !type.startsWith('Galaxy');

export interface ClassificationOptions {
  /** Fink's classifiers (createFinkClassifiers); null runs the heuristics alone (tests). */
  fink: FinkClassifiers | null;
  /** Enabled heuristic plugins (resolveClassifiers(config.pipeline.heuristicClassifiers)). */
  heuristics: readonly Classifier[];
  overridingTypes?: OverridingTypePolicy;
  /** A classifier flags its label when its score is strictly greater. */
  threshold?: number;
}

export const DEFAULT_LABEL_THRESHOLD = 0.5;

/** Which classifier's score raises which label, in Fink's order. Scores of other classifiers are only stored. */
export const SCORE_LABELS: readonly { classifier: string; label: string; ambiguity: boolean }[] = [
  { classifier: 'heuristic_microlensing', label: FINK_LABELS.microlensing, ambiguity: true },
  { classifier: 'heuristic_sn_candidate', label: FINK_LABELS.sn, ambiguity: true },
  { classifier: 'heuristic_snia_early', label: FINK_LABELS.earlySnIa, ambiguity: false },
  { classifier: 'heuristic_kilonova', label: FINK_LABELS.kilonova, ambiguity: false },
];

/**
 * The classifier's score, or null with the reason it failed. A classifier that throws or answers NaN for one
 * alert (a value its author did not foresee) must not take the batch down with it: the score is unknown.
 */
function checkedScore(
  classifier: Classifier,
  alert: ClassifierInput,
): { score: number | null; failure?: ClassifierFailure['reason'] } {
  let score: number | null;
  try {
    score = classifier.score(alert);
  } catch {
    return { score: null, failure: 'threw' };
  }
  if (score !== null && !(score >= 0 && score <= 1)) return { score: null, failure: 'not-a-score' };
  return { score };
}

/** The label of an alert from its scores, roid, tracklet flag and cross-matches (Fink's rules, above). */
export function labelOf(
  alert: Pick<ClassificationInput, 'roid' | 'tracklet' | 'crossmatches'>,
  scores: readonly ClassifierScore[],
  options: { threshold?: number; overridingTypes?: OverridingTypePolicy } = {},
): string {
  const threshold = options.threshold ?? DEFAULT_LABEL_THRESHOLD;
  const overridingTypes = options.overridingTypes ?? FINK_OVERRIDING_TYPES;
  const flagged = (name: string): boolean =>
    scores.some((s) => s.classifier === name && s.score !== null && s.score > threshold);

  let label: string = FINK_LABELS.unknown;
  let ambiguity = 0;
  const raise = (up: boolean, name: string, counts: boolean): void => {
    if (!up) return;
    label = name;
    if (counts) ambiguity++;
  };
  for (const rule of SCORE_LABELS) raise(flagged(rule.classifier), rule.label, rule.ambiguity);
  raise(alert.roid === 2, FINK_LABELS.ssoCandidate, true);
  raise(alert.tracklet === true, FINK_LABELS.tracklet, false);
  raise(alert.roid === 3, FINK_LABELS.ssoMpc, true);
  if (ambiguity > 1) label = FINK_LABELS.ambiguous;

  let nearest: CrossmatchForLabel | undefined;
  for (const match of alert.crossmatches ?? []) {
    if (!match.overriding || match.type === null || !overridingTypes(match.type, match.catalog)) continue;
    if (nearest === undefined || match.distanceArcsec < nearest.distanceArcsec) nearest = match;
  }
  return nearest?.type ?? label;
}

/**
 * Fink's `cdsxmatch`: the type of the nearest match of an overriding catalog (SIMBAD's role), 'Unknown' without
 * one. Any type, Galaxy* included: fink-filters reads host types from it, only the override skips them.
 */
export function cdsxmatchOf(crossmatches: readonly CrossmatchForLabel[] | undefined): string {
  let nearest: CrossmatchForLabel | undefined;
  for (const match of crossmatches ?? []) {
    if (!match.overriding || match.type === null || match.type === '') continue;
    if (nearest === undefined || match.distanceArcsec < nearest.distanceArcsec) nearest = match;
  }
  return nearest?.type ?? 'Unknown';
}

function finkInput(alert: ClassificationInput): FinkClassifierInput {
  return {
    alert,
    roid: alert.roid,
    cdsxmatch: cdsxmatchOf(alert.crossmatches),
    // Fink's tracklet module labels alerts 'TRCK_<exposure>_<n>'; only the prefix matters to the label.
    tracklet: alert.tracklet === true ? 'TRCK_' : null,
  };
}

/** Fink's scores of each alert, in input order; an alert whose scoring throws gets undefined. */
async function finkScoreSets(
  fink: FinkClassifiers,
  alerts: readonly ClassificationInput[],
): Promise<(ScoreSet | undefined)[]> {
  const inputs = alerts.map(finkInput);
  try {
    return await fink.classify(inputs);
  } catch {
    // One alert the models cannot take (an unforeseen value) must not cost the batch its scores.
    const sets: (ScoreSet | undefined)[] = [];
    for (const input of inputs) {
      try {
        sets.push((await fink.classify([input]))[0]);
      } catch {
        sets.push(undefined);
      }
    }
    return sets;
  }
}

/** The stored scores of a Fink score set: the classifiers of the alert's survey, with their provenance. */
function finkScores(
  fink: FinkClassifiers,
  alert: ClassificationInput,
  set: ScoreSet | undefined,
  failures: ClassifierFailure[],
): ClassifierScore[] {
  const version = fink.finkScienceVersion;
  if (set === undefined) {
    const names = alert.survey === 'ztf' ? FINK_ZTF_SCORES : (['snnSnVsOthers_score'] as const);
    return names.map((classifier) => {
      failures.push({ classifier, reason: 'threw' });
      return { classifier, version, score: null, ...NO_MODEL, finkScienceVersion: version };
    });
  }
  return set.scores
    .filter((s) => s.missing !== 'survey')
    .map((s): ClassifierScore => {
      let score = s.score;
      // Fink's scores are probabilities, except anomaly_score (an isolation forest's signed score).
      if (score !== null && !Number.isFinite(score)) {
        failures.push({ classifier: s.classifier, reason: 'not-a-score' });
        score = null;
      }
      return {
        classifier: s.classifier,
        version,
        score,
        modelFile: s.provenance?.modelFile ?? '',
        modelSha256: s.provenance?.modelSha256 ?? '',
        finkScienceVersion: version,
      };
    });
}

/**
 * Adds `classification` to every alert of the batch: Fink's scores with their provenance, the heuristic
 * plugins' scores, and the label (Fink's for ZTF, see above).
 */
export function createClassificationStep<A extends ClassificationInput>(
  options: ClassificationOptions,
): BatchStep<A, A & ClassificationFields> {
  const { fink, heuristics } = options;
  const threshold = options.threshold ?? DEFAULT_LABEL_THRESHOLD;
  const overridingTypes = options.overridingTypes ?? FINK_OVERRIDING_TYPES;
  return async function classification(alerts) {
    const sets = fink === null ? [] : await finkScoreSets(fink, alerts);
    return alerts.map((alert, i) => {
      const failures: ClassifierFailure[] = [];
      const set = sets[i];
      const scores = fink === null ? [] : finkScores(fink, alert, set, failures);
      const heuristicScores = heuristics.map((classifier): ClassifierScore => {
        const { name, version } = classifier;
        const entry = { classifier: name, version, ...NO_MODEL };
        if (!appliesTo(classifier, alert.survey)) return { ...entry, score: null };
        const { score, failure } = checkedScore(classifier, alert);
        if (failure !== undefined) failures.push({ classifier: name, reason: failure });
        return { ...entry, score };
      });
      scores.push(...heuristicScores);
      const label = set?.finkclass ?? labelOf(alert, heuristicScores, { threshold, overridingTypes });
      const classification: Classification =
        failures.length > 0 ? { label, scores, failures } : { label, scores };
      return ok({ ...alert, classification });
    });
  };
}
