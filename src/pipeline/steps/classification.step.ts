// Runs the enabled classifiers, keeps every score with its provenance, and labels the alert the way Fink does.
//
// The label follows extract_fink_classification_ (fink-filters, fink_filters/classification.py; fink-broker
// carried the same function in fink_broker/classification.py before). Labels are applied in this order, a
// later one replacing an earlier one:
//
//   Microlensing candidate   microlensing score > threshold            counts towards ambiguity
//   SN candidate             sn_candidate score > threshold            counts towards ambiguity
//   Early SN Ia candidate    snia_early score > threshold
//   Kilonova candidate       kilonova score > threshold
//   Solar System candidate   roid == 2                                 counts towards ambiguity
//   Tracklet                 alert.tracklet == true
//   Solar System MPC         roid == 3                                 counts towards ambiguity
//
// then 'Ambiguous' when more than one of the counted flags is up, then a catalog type replaces all of it when
// an "overriding" catalog matched (Fink: np.where(f_simbad, cdsxmatch, classification), SIMBAD overriding even
// Ambiguous); 'Unknown' when nothing applies.
//
// Thresholds taken from Fink's filters: its machine-learned scores pass at > 0.5 (SuperNNova, random forest,
// kilonova in filter_sn_candidates, filter_early_sn_candidates, filter_kn_candidates), which is our default
// `threshold` (strictly greater, as in Fink). Fink's microlensing filter passes at mulens > 0, because LIA's
// score is non-zero only when both bands favour lensing; our microlensing heuristic has no such property, so
// it uses the common threshold. The other cuts of Fink's filters (ndethist, age, roid != 3, not near a star)
// live inside the built-in classifiers, which return 0 when they fail. Fink's filters also require drb > 0.5,
// classtar > 0.4 and a SIMBAD type in an allowed list; the quality cuts and the override play those roles here.
//
// Tracklet: Fink tags alerts lying on a satellite or debris streak found across the alerts of one exposure
// (fink-broker tracklet_identification, label 'TRCK_...'). Nothing in a ZTF alert says so on its own, so this
// stage takes an optional boolean `tracklet` that an upstream batch stage may set; absent means no.
//
// Override: Fink overrides with any SIMBAD type except 'Unknown', 'Transient', 'Fail*' (cross-match failures)
// and 'Galaxy*' (a host, not the transient: fink-filters issue #120), see filter_simbad_candidates. Which
// catalogs override is the cross-match stage's `overriding` flag; which of their types do is `overridingTypes`.
import { appliesTo } from '../classifiers/classifier.ts';
import type { Classifier, ClassifierInput, ClassifierScore } from '../classifiers/classifier.ts';
import { ok } from '../framework.ts';
import type { Step } from '../framework.ts';

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
  /** One entry per enabled classifier, in config order; score null when it did not apply or failed. */
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
  /** Enabled classifiers (resolveClassifiers(config.pipeline.classifiers)). */
  classifiers: readonly Classifier[];
  overridingTypes?: OverridingTypePolicy;
  /** A classifier flags its label when its score is strictly greater. */
  threshold?: number;
}

export const DEFAULT_LABEL_THRESHOLD = 0.5;

export const LABELS = {
  microlensing: 'Microlensing candidate',
  sn: 'SN candidate',
  earlySnIa: 'Early SN Ia candidate',
  kilonova: 'Kilonova candidate',
  ssoCandidate: 'Solar System candidate',
  tracklet: 'Tracklet',
  ssoMpc: 'Solar System MPC',
  ambiguous: 'Ambiguous',
  unknown: 'Unknown',
} as const;

/** Which classifier's score raises which label, in Fink's order. Scores of other classifiers are only stored. */
export const SCORE_LABELS: readonly { classifier: string; label: string; ambiguity: boolean }[] = [
  { classifier: 'microlensing', label: LABELS.microlensing, ambiguity: true },
  { classifier: 'sn_candidate', label: LABELS.sn, ambiguity: true },
  { classifier: 'snia_early', label: LABELS.earlySnIa, ambiguity: false },
  { classifier: 'kilonova', label: LABELS.kilonova, ambiguity: false },
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

  let label: string = LABELS.unknown;
  let ambiguity = 0;
  const raise = (up: boolean, name: string, counts: boolean): void => {
    if (!up) return;
    label = name;
    if (counts) ambiguity++;
  };
  for (const rule of SCORE_LABELS) raise(flagged(rule.classifier), rule.label, rule.ambiguity);
  raise(alert.roid === 2, LABELS.ssoCandidate, true);
  raise(alert.tracklet === true, LABELS.tracklet, false);
  raise(alert.roid === 3, LABELS.ssoMpc, true);
  if (ambiguity > 1) label = LABELS.ambiguous;

  let nearest: CrossmatchForLabel | undefined;
  for (const match of alert.crossmatches ?? []) {
    if (!match.overriding || match.type === null || !overridingTypes(match.type, match.catalog)) continue;
    if (nearest === undefined || match.distanceArcsec < nearest.distanceArcsec) nearest = match;
  }
  return nearest?.type ?? label;
}

/** Adds `classification`: every enabled classifier's score with provenance, and the label. */
export function createClassificationStep<A extends ClassificationInput>(
  options: ClassificationOptions,
): Step<A, A & ClassificationFields> {
  const { classifiers } = options;
  const threshold = options.threshold ?? DEFAULT_LABEL_THRESHOLD;
  const overridingTypes = options.overridingTypes ?? FINK_OVERRIDING_TYPES;
  return function classification(alert) {
    const failures: ClassifierFailure[] = [];
    const scores = classifiers.map((classifier): ClassifierScore => {
      const { name, version } = classifier;
      if (!appliesTo(classifier, alert.survey)) return { classifier: name, version, score: null };
      const { score, failure } = checkedScore(classifier, alert);
      if (failure !== undefined) failures.push({ classifier: name, reason: failure });
      return { classifier: name, version, score };
    });
    const label = labelOf(alert, scores, { threshold, overridingTypes });
    const classification: Classification =
      failures.length > 0 ? { label, scores, failures } : { label, scores };
    return ok({ ...alert, classification });
  };
}
