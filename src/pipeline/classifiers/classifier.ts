// The classifier plugin contract. A classifier turns one enriched alert into a score in [0, 1] (or null when it
// cannot judge this alert); the classification stage runs the enabled ones, stores every score with the
// classifier's name and version, and derives the alert's label from them.
//
// Rules for implementations:
// - Pure and synchronous: no I/O, no clock, no randomness. The same alert gives the same score, so a stored
//   score can be reproduced from the stored alert and the (name, version) next to it.
// - Read only what `inputs` lists. Bump `version` whenever the score of some alert would change.
// - Return null, not 0, when the alert lacks what the classifier needs ("not assessed" is not "unlikely").
import type { Alert, Survey } from '../alert.ts';
import type { FeaturesFields } from '../steps/features.step.ts';
import type { RoidFields } from '../steps/roid.step.ts';

/** What every classifier may read: the decoded alert plus what the roid and features stages add. */
export type ClassifierInput = Alert & RoidFields & FeaturesFields;

export type ClassifierSurvey = Survey | 'both';

export interface Classifier {
  /** Stable identifier, used in config (pipeline.classifiers) and stored with every score. */
  readonly name: string;
  /** Semver-like; part of every stored score's provenance. */
  readonly version: string;
  /**
   * The fields the score depends on, as paths into ClassifierInput ('features.rate', 'roid',
   * 'ztf.candidate.sgscore1'). Documentation for people and for provenance; not enforced.
   */
  readonly inputs: readonly string[];
  /** The surveys it applies to; 'both' when omitted. On other surveys it is not run (its score is null). */
  readonly survey?: ClassifierSurvey;
  /** A score in [0, 1], higher = more likely; null when the alert cannot be assessed. */
  score(alert: ClassifierInput): number | null;
}

/** One stored score and where it came from. */
export interface ClassifierScore {
  classifier: string;
  version: string;
  score: number | null;
  /** The model file in the fink-science wheel (e.g. snn_models/snn_snia_vs_nonia/model.pt); '' without one. */
  modelFile: string;
  /** SHA-256 of that file as shipped in the wheel; '' without a model. */
  modelSha256: string;
  /** The fink-science release the model comes from; '' for a classifier that is not Fink's. */
  finkScienceVersion: string;
}

/** The provenance fields of a score that no trained model made (the heuristic plugins). */
export const NO_MODEL = { modelFile: '', modelSha256: '', finkScienceVersion: '' } as const;

export function appliesTo(classifier: Classifier, survey: Survey): boolean {
  const target = classifier.survey ?? 'both';
  return target === 'both' || target === survey;
}
