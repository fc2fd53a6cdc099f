// Solar-system object flag `roid`, as Fink's roid_catcher computes it, and the known object's name.
//
// ZTF: a line-by-line port of roid_catcher in fink-science (fink_science/ztf/asteroids/processor.py; the same
// rules as the later fink_science/asteroids/processor.py minus its fink-fat association step). Each rule
// overwrites the previous one, so order matters:
//
//   0  start
//   1  ndethist == 1                                     first detection at this position
//   2  sgscore1 < 0.76 and ndethist <= 2                 Fink SSO candidate (no stellar PS1 counterpart)
//   0  0 < distpsnr1 < 5                                 a PS1 source within 5" (Fink's comment says 1")
//   0  nalerthist == 2 and last jd gap > 30 min          two detections too far apart for a moving object
//   0  ndethist == 2 and nalerthist == 1                 the other detection is older than the alert history
//   3  0 <= ssdistnr < 5 and |distpsnr1| - ssdistnr > 0  ZTF matched a known (MPC) object within 5", closer
//      and ndethist <= 5 and nalerthist <= 5              than any PS1 source, seen only a few times
//
// What the Python really does, read in its source:
// - nalerthist counts the non-NaN magpsf of concat(prv_candidates.magpsf, [candidate.magpsf]): history
//   detections plus the current one. Upper limits (magpsf null) do not count.
// - "last jd gap" is np.diff(cjd)[-1] with cjd = concat(prv_candidates.jd, [candidate.jd]) in the alert's own
//   order (fink_utils concat_col): the current jd minus the jd of the LAST history entry, which may be an
//   upper limit, not necessarily the previous detection.
// - Every comparison runs on pandas Series, where a null (NaN) compares false: a null field makes its rule
//   not apply, it never rejects or accepts on its own. ZTF writes -999 for "no PS1 source" (distpsnr1,
//   sgscore1) and "no known object" (ssdistnr); those are plain numbers and go through the rules as such
//   (sgscore1 = -999 passes `< 0.76`, ssdistnr = -999 fails `>= 0`, |distpsnr1| = 999 passes the relative
//   distance test: hence Fink's abs()).
//
// Rubin: Fink's Rubin pipeline (fink-broker, fink_broker/rubin/science.py) flags `is_sso` as "the alert carries
// an ssSource", i.e. Rubin's own association with a known solar-system object. We map that to roid 3 and
// everything else to 0: Rubin alerts carry no PS1 star/galaxy score nor ndethist, so rules 1 and 2 do not
// translate.
import type { Alert } from '../alert.ts';
import type { ZtfAlert } from '../decode/ztf-avro.ts';
import { ok } from '../framework.ts';
import type { Step } from '../framework.ts';

/** 0: likely not a solar-system object; 1: first detection; 2: Fink SSO candidate; 3: known object (MPC). */
export type Roid = 0 | 1 | 2 | 3;

export interface RoidFields {
  roid: Roid;
  /**
   * The known solar-system object's name when roid is 3: ZTF ssnamenr, Rubin ssSource designation (or its
   * ssObjectId when the designation is null). Null otherwise.
   */
  ssName: string | null;
}

/** Tachibana & Miller (2018): PS1 sources with sgscore1 >= 0.76 are stars. */
const SGSCORE_STAR = 0.76;
/** Distance to the nearest PS1 source below which the alert is taken as that (static) source [arcsec]. */
const PS1_DISTANCE_ARCSEC = 5;
/** Two detections of a moving object within one visit sequence are at most this far apart [days]. */
const MAX_PAIR_GAP_DAYS = 30 / (24 * 60);
/** ZTF's association radius with a known solar-system object that Fink accepts [arcsec]. */
const MPC_DISTANCE_ARCSEC = 5;
/** Seen more often than this at the same position, it is not a moving object. */
const MAX_DETECTIONS_FOR_MPC = 5;

/** The columns roid_catcher reads, in Fink's order: history first, the current measurement last. */
export interface ZtfRoidInput {
  /** concat(prv_candidates.jd, [candidate.jd]). */
  jd: readonly number[];
  /** concat(prv_candidates.magpsf, [candidate.magpsf]); null for upper limits. */
  magpsf: readonly (number | null)[];
  ndethist: number | null;
  sgscore1: number | null;
  ssdistnr: number | null;
  distpsnr1: number | null;
}

/** A pandas comparison: false when either side is null or NaN. */
function known(value: number | null | undefined): value is number {
  return typeof value === 'number' && !Number.isNaN(value);
}

/** roid_catcher for one ZTF alert. */
export function ztfRoid(input: ZtfRoidInput): Roid {
  const { jd, magpsf, ndethist, sgscore1, ssdistnr, distpsnr1 } = input;
  const nalerthist = magpsf.filter(known).length;
  let roid: Roid = 0;

  if (known(ndethist) && ndethist === 1) roid = 1;
  if (known(sgscore1) && sgscore1 < SGSCORE_STAR && known(ndethist) && ndethist <= 2) roid = 2;
  if (known(distpsnr1) && distpsnr1 < PS1_DISTANCE_ARCSEC && distpsnr1 > 0) roid = 0;
  if (nalerthist === 2 && jd.length >= 2) {
    const lastGap = jd[jd.length - 1]! - jd[jd.length - 2]!;
    if (lastGap > MAX_PAIR_GAP_DAYS) roid = 0;
  }
  if (known(ndethist) && ndethist === 2 && nalerthist === 1) roid = 0;
  if (
    known(ssdistnr) &&
    ssdistnr >= 0 &&
    ssdistnr < MPC_DISTANCE_ARCSEC &&
    known(distpsnr1) &&
    Math.abs(distpsnr1) - ssdistnr > 0 &&
    known(ndethist) &&
    ndethist <= MAX_DETECTIONS_FOR_MPC &&
    nalerthist <= MAX_DETECTIONS_FOR_MPC
  ) {
    roid = 3;
  }
  return roid;
}

/** The roid_catcher columns of a ZTF record. */
export function ztfRoidInput(record: ZtfAlert): ZtfRoidInput {
  const { candidate } = record;
  const history = record.prv_candidates ?? [];
  return {
    jd: [...history.map((prv) => prv.jd), candidate.jd],
    magpsf: [...history.map((prv) => prv.magpsf), candidate.magpsf],
    ndethist: candidate.ndethist,
    sgscore1: candidate.sgscore1,
    ssdistnr: candidate.ssdistnr,
    distpsnr1: candidate.distpsnr1,
  };
}

/** ZTF ssnamenr, or null: ZTF writes the string 'null' when no known object is near. */
export function ztfSsName(ssnamenr: string | null): string | null {
  if (ssnamenr === null) return null;
  const name = ssnamenr.trim();
  return name === '' || name === 'null' ? null : name;
}

/** Rubin ssSource, read defensively: the decoded record is only known to be an object or null. */
function rubinSsName(ssSource: unknown): string | null | undefined {
  if (typeof ssSource !== 'object' || ssSource === null) return undefined;
  const { designation, ssObjectId } = ssSource as { designation?: unknown; ssObjectId?: unknown };
  if (typeof designation === 'string' && designation.trim() !== '') return designation.trim();
  if (typeof ssObjectId === 'bigint' || typeof ssObjectId === 'number' || typeof ssObjectId === 'string') {
    return String(ssObjectId);
  }
  return null;
}

/** Adds `roid` and `ssName`. Pure: reads the ZTF candidate and history, or the Rubin ssSource. */
export function createRoidStep<A extends Alert>(): Step<A, A & RoidFields> {
  return function roidCatcher(alert) {
    if (alert.survey === 'ztf') {
      const roid = ztfRoid(ztfRoidInput(alert.ztf));
      const ssName = roid === 3 ? ztfSsName(alert.ztf.candidate.ssnamenr) : null;
      return ok({ ...alert, roid, ssName });
    }
    const ssName = rubinSsName(alert.lsst.ssSource);
    return ssName === undefined ? ok({ ...alert, roid: 0, ssName: null }) : ok({ ...alert, roid: 3, ssName });
  };
}
