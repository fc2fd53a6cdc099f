// Quality cuts: alerts that fail them are dropped (counted by reason), not processed further.
//
// ZTF, exactly Fink's (fink-filters, fink_filters/filter_quality_cuts/filter.py, applied by fink-broker's
// bin/ztf/raw2science.py): keep when rb >= 0.55 and nbad == 0. In pandas a null rb or nbad fails the
// comparison, so a null rejects here too. Fink's raw2science also drops i-band alerts (candidate fid 3): its
// classifiers are trained on g and r only, and the broker never processes those; so are they here ('i-band').
//
// Rubin: Fink's good-quality block (fink-filters, fink_filters/rubin/livestream/filter_good_quality) rejects
// isDipole, shape_flag, forced_PsfFlux_flag, psfFlux_flag, apFlux_flag, centroid_flag, forced_PsfFlux_flag_edge
// and three pixel flags (pixelFlags_bad, _cr, _interpolated). This project is stricter, by decision: any
// pixelFlags* set rejects (a saturated, edge, streak or injected footprint is no better), and the detection
// must be positive with S/N = psfFlux / psfFluxErr >= 6. Rubin flags are nullable booleans: only `true` rejects.
//
// Rules are checked in the order of QUALITY_DROP_REASONS below; the first failing one names the drop.
import type { Alert } from '../alert.ts';
import type { ZtfCandidate } from '../decode/ztf-avro.ts';
import { dlq, drop, ok } from '../framework.ts';
import type { Step, StepResult } from '../framework.ts';

/** Fink's real/bogus threshold for ZTF (rb, the random-forest score in every ZTF alert). */
export const ZTF_MIN_RB = 0.55;
/** Minimum signal-to-noise of a Rubin detection, psfFlux / psfFluxErr. */
export const RUBIN_MIN_SNR = 6;

/** Every reason this stage drops an alert for, stable: metrics count by them. */
export const QUALITY_DROP_REASONS = [
  // ZTF
  'rb-missing',
  'rb-below-0.55',
  'nbad-missing',
  'nbad-nonzero',
  'i-band',
  // Rubin
  'dipole',
  'pixel-flags',
  'psf-flux-flag',
  'ap-flux-flag',
  'forced-psf-flux-flag',
  'forced-psf-flux-edge',
  'shape-flag',
  'centroid-flag',
  'psf-flux-invalid',
  'psf-flux-negative',
  'snr-below-6',
] as const;

export type QualityDropReason = (typeof QUALITY_DROP_REASONS)[number];

/** Rubin diaSource boolean flags that reject an alert when true, in check order. */
const RUBIN_FLAGS: readonly (readonly [field: string, reason: QualityDropReason])[] = [
  ['isDipole', 'dipole'],
  ['psfFlux_flag', 'psf-flux-flag'],
  ['apFlux_flag', 'ap-flux-flag'],
  ['forced_PsfFlux_flag', 'forced-psf-flux-flag'],
  ['forced_PsfFlux_flag_edge', 'forced-psf-flux-edge'],
  ['shape_flag', 'shape-flag'],
  ['centroid_flag', 'centroid-flag'],
];

/** ZTF's i band: Fink's broker drops alerts whose candidate is in it. */
export const ZTF_I_BAND_FID = 3;

/** Why a ZTF candidate fails Fink's cuts, or null when it passes. */
export function ztfQualityFailure(
  candidate: Pick<ZtfCandidate, 'rb' | 'nbad' | 'fid'>,
): QualityDropReason | null {
  const { rb, nbad } = candidate;
  if (rb === null || Number.isNaN(rb)) return 'rb-missing';
  if (!(rb >= ZTF_MIN_RB)) return 'rb-below-0.55';
  if (nbad === null || Number.isNaN(nbad)) return 'nbad-missing';
  if (nbad !== 0) return 'nbad-nonzero';
  if (candidate.fid === ZTF_I_BAND_FID) return 'i-band';
  return null;
}

/**
 * Why a Rubin diaSource fails the cuts, or null when it passes. Takes the decoded record as it comes: every
 * field is read defensively (nullable in the schema, absent in older schema versions).
 */
export function rubinQualityFailure(diaSource: Readonly<Record<string, unknown>>): QualityDropReason | null {
  if (diaSource.isDipole === true) return 'dipole';
  for (const [field, value] of Object.entries(diaSource)) {
    if (field.startsWith('pixelFlags') && value === true) return 'pixel-flags';
  }
  for (const [field, reason] of RUBIN_FLAGS) {
    if (diaSource[field] === true) return reason;
  }
  const flux = diaSource.psfFlux;
  const fluxErr = diaSource.psfFluxErr;
  if (typeof flux !== 'number' || typeof fluxErr !== 'number' || Number.isNaN(flux) || !(fluxErr > 0)) {
    return 'psf-flux-invalid';
  }
  if (flux < 0) return 'psf-flux-negative';
  if (!(flux / fluxErr >= RUBIN_MIN_SNR)) return 'snr-below-6';
  return null;
}

/** Drops alerts that fail the survey's quality cuts; passes the others through unchanged. */
export function createQualityCutsStep<A extends Alert>(): Step<A, A> {
  return function qualityCuts(alert): StepResult<A> {
    if (alert.survey === 'ztf') {
      const failure = ztfQualityFailure(alert.ztf.candidate);
      return failure === null ? ok(alert) : drop(failure);
    }
    const diaSource: unknown = alert.lsst.diaSource;
    // The decoder guarantees a diaSource (it is not nullable in any Rubin schema): its absence is a bad message.
    if (typeof diaSource !== 'object' || diaSource === null) return dlq('rubin-diasource-missing');
    const failure = rubinQualityFailure(diaSource as Readonly<Record<string, unknown>>);
    return failure === null ? ok(alert) : drop(failure);
  };
}
