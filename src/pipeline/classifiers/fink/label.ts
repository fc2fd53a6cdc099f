// Fink's label of a ZTF alert, as fink-filters 7.45 computes it (fink_filters/ztf/classification.py
// extract_fink_classification_, with the filters it calls). A pure function of the module scores and a few
// candidate fields.
//
// Flags, each as its fink-filters filter decides (scores compare as floats: a missing value is never > 0.5):
//   mulens     mulens > 0                                                            (microlensing_candidates_)
//   sn         (snn_snia_vs_nonia > 0.5 or snn_sn_vs_all > 0.5), cdsxmatch a possible host, jd - jdstarthist
//              <= 90, drb > 0.5, classtar > 0.4, ndethist > 1, roid != 3                (sn_candidates_)
//   early Ia   rf_snia_vs_nonia > 0.5, ndethist <= 20, and the SN conditions without the age, ndethist and
//              roid ones                                                           (early_sn_candidates_)
//   kilonova   rf_kn_vs_nonkn > 0.5, drb > 0.5, classtar > 0.4, jd - jdstarthist < 5, roid != 3,
//              ndethist < 20, cdsxmatch a possible host                                 (kn_candidates_)
//   roid 2, tracklet ('TRCK_...'), roid 3
// The label is the last flag up in the order: Microlensing candidate, SN candidate, Early SN Ia candidate,
// Kilonova candidate, Solar System candidate, Tracklet, Solar System MPC; 'Ambiguous' when more than one of
// mulens, sn, roid 2, roid 3 is up; 'Unknown' when none; and the SIMBAD type when cdsxmatch is one
// (anything but Unknown, Transient, Fail..., Galaxy...: simbad_candidates_), whatever the flags.
import { EXTRAGALACTIC_HOST_TYPES } from './photometry.ts';

export interface FinkLabelInput {
  /** SIMBAD type of the counterpart ('Unknown' without one). */
  cdsxmatch: string;
  roid: number;
  mulens: number | null;
  snn_snia_vs_nonia: number | null;
  snn_sn_vs_all: number | null;
  rf_snia_vs_nonia: number | null;
  rf_kn_vs_nonkn: number | null;
  ndethist: number | null;
  drb: number | null;
  classtar: number | null;
  jd: number;
  jdstarthist: number | null;
  /** The tracklet id Fink's tracklet module sets ('TRCK_...'), or '' / null. */
  tracklet: string | null;
}

export const FINK_LABELS = {
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

/** A null reads as NaN, as pandas' astype(float) makes it: every comparison with it is false. */
function n(value: number | null): number {
  return value ?? Number.NaN;
}

/** fink-filters simbad_candidates_: the SIMBAD type overrides the label. */
export function isSimbadOverride(cdsxmatch: string): boolean {
  return (
    cdsxmatch !== 'Unknown' &&
    cdsxmatch !== 'Transient' &&
    !cdsxmatch.startsWith('Fail') &&
    !cdsxmatch.startsWith('Galaxy')
  );
}

export interface FinkFlags {
  mulens: boolean;
  sn: boolean;
  earlySnIa: boolean;
  kilonova: boolean;
  ssoCandidate: boolean;
  tracklet: boolean;
  ssoMpc: boolean;
  simbad: boolean;
}

export function finkFlags(a: FinkLabelInput): FinkFlags {
  const snn = n(a.snn_snia_vs_nonia) > 0.5 || n(a.snn_sn_vs_all) > 0.5;
  const host = EXTRAGALACTIC_HOST_TYPES.has(a.cdsxmatch);
  const highDrb = n(a.drb) > 0.5;
  const highClasstar = n(a.classtar) > 0.4;
  const age = a.jd - n(a.jdstarthist);
  const ndethist = n(a.ndethist);
  const baseSn = snn && host && highDrb && highClasstar;
  return {
    mulens: n(a.mulens) > 0,
    sn: baseSn && age <= 90 && ndethist > 1 && a.roid !== 3,
    earlySnIa: baseSn && ndethist <= 20 && n(a.rf_snia_vs_nonia) > 0.5,
    kilonova:
      n(a.rf_kn_vs_nonkn) > 0.5 &&
      highDrb &&
      highClasstar &&
      age < 5 &&
      a.roid !== 3 &&
      ndethist < 20 &&
      host,
    ssoCandidate: a.roid === 2,
    tracklet: (a.tracklet ?? '').startsWith('TRCK_'),
    ssoMpc: a.roid === 3,
    simbad: isSimbadOverride(a.cdsxmatch),
  };
}

/** Fink's label (the `finkclass` of its API) for one alert. */
export function finkLabel(a: FinkLabelInput): string {
  const f = finkFlags(a);
  let label: string = FINK_LABELS.unknown;
  if (f.mulens) label = FINK_LABELS.microlensing;
  if (f.sn) label = FINK_LABELS.sn;
  if (f.earlySnIa) label = FINK_LABELS.earlySnIa;
  if (f.kilonova) label = FINK_LABELS.kilonova;
  if (f.ssoCandidate) label = FINK_LABELS.ssoCandidate;
  if (f.tracklet) label = FINK_LABELS.tracklet;
  if (f.ssoMpc) label = FINK_LABELS.ssoMpc;
  const ambiguity = [f.mulens, f.sn, f.ssoCandidate, f.ssoMpc].filter(Boolean).length;
  if (ambiguity > 1) label = FINK_LABELS.ambiguous;
  return f.simbad ? a.cdsxmatch : label;
}
