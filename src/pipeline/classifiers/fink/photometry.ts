// The light curve as Fink's science modules see it, and Fink's photometric utilities.
//
// Fink's modules read "concatenated columns" (fink-utils concat_col): for each field, the alert's prv_candidates
// values in their order, then the candidate's, as arrays. Upper limits are the entries whose magpsf is null
// (NaN once Spark hands the arrays to pandas). These arrays are the modules' only view of the light curve, so
// every classifier here starts from them.
//
// Negative detections (isdiffpos 'f' or '0': the source is fainter than in the reference image) are detections:
// they have a magpsf (the magnitude of |difference flux|) and are counted as such by nalerthist and by every
// module's minimum-points cut. The DC (apparent) magnitude puts their sign back: reference flux minus difference
// flux (fink-utils photometry.conversion.dc_mag, after the ZTF Explanatory Supplement p.107).
import type { ZtfAlert } from '../../decode/ztf-avro.ts';

/** Fink's concatenated columns of one ZTF alert: history first, the candidate last. Null numbers are NaN. */
export interface ZtfLightCurve {
  jd: Float64Array;
  fid: Int32Array;
  magpsf: Float64Array;
  sigmapsf: Float64Array;
  magnr: Float64Array;
  sigmagnr: Float64Array;
  distnr: Float64Array;
  diffmaglim: Float64Array;
  /** 't', 'f', '1', '0', or null for an upper limit. */
  isdiffpos: (string | null)[];
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

export function ztfLightCurve(alert: Pick<ZtfAlert, 'candidate' | 'prv_candidates'>): ZtfLightCurve {
  const history = alert.prv_candidates ?? [];
  const n = history.length + 1;
  const lc: ZtfLightCurve = {
    jd: new Float64Array(n),
    fid: new Int32Array(n),
    magpsf: new Float64Array(n),
    sigmapsf: new Float64Array(n),
    magnr: new Float64Array(n),
    sigmagnr: new Float64Array(n),
    distnr: new Float64Array(n),
    diffmaglim: new Float64Array(n),
    isdiffpos: new Array<string | null>(n),
  };
  const put = (i: number, p: Record<string, unknown>): void => {
    lc.jd[i] = num(p.jd);
    lc.fid[i] = typeof p.fid === 'number' ? p.fid : 0;
    lc.magpsf[i] = num(p.magpsf);
    lc.sigmapsf[i] = num(p.sigmapsf);
    lc.magnr[i] = num(p.magnr);
    lc.sigmagnr[i] = num(p.sigmagnr);
    lc.distnr[i] = num(p.distnr);
    lc.diffmaglim[i] = num(p.diffmaglim);
    lc.isdiffpos[i] = typeof p.isdiffpos === 'string' ? p.isdiffpos : null;
  };
  history.forEach((p, i) => put(i, p));
  put(n - 1, alert.candidate);
  return lc;
}

/** Points with a magnitude (np.sum(x == x) on magpsf): detections, negative ones included. */
export function countValid(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
  return n;
}

/**
 * fink-science nalerthist: the detections the alert carries (history + current), upper limits not counted.
 * Negative detections count.
 */
export function nalerthist(lc: Pick<ZtfLightCurve, 'magpsf'>): number {
  return countValid(lc.magpsf);
}

function isPositive(isdiffpos: string | null): boolean {
  return isdiffpos === 't' || isdiffpos === '1';
}

/**
 * Apparent (DC) flux in units of the magnitude zero point (fink-utils apparent_flux, jansky=False), and its
 * error. NaN when there is no magnitude or no reference source (magnr < 0 or null).
 */
export function apparentFlux(
  magpsf: number | null,
  sigmapsf: number | null,
  magnr: number | null,
  sigmagnr: number | null,
  isdiffpos: string | null,
): { flux: number; fluxErr: number } {
  const m = magpsf ?? Number.NaN;
  // Fink's vectorised form turns magnr < 0 into NaN; its scalar form returns NaN: the same result.
  const mr = magnr === null || magnr < 0 ? Number.NaN : magnr;
  const differenceFlux = 10 ** (-0.4 * m);
  const differenceSigFlux = ((sigmapsf ?? Number.NaN) / 1.0857) * differenceFlux;
  const refFlux = 10 ** (-0.4 * mr);
  const refSigFlux = ((sigmagnr ?? Number.NaN) / 1.0857) * refFlux;
  const flux = isPositive(isdiffpos) ? refFlux + differenceFlux : refFlux - differenceFlux;
  return { flux, fluxErr: Math.sqrt(differenceSigFlux ** 2 + refSigFlux ** 2) };
}

/**
 * DC (apparent) magnitude and error from ZTF's difference photometry (fink-utils dc_mag / vect_dc_mag).
 * NaN where Fink's is NaN: no magnitude, no reference source, or a negative difference larger than the reference
 * flux (the log of a negative flux).
 */
export function dcMag(
  magpsf: number | null,
  sigmapsf: number | null,
  magnr: number | null,
  sigmagnr: number | null,
  isdiffpos: string | null,
): { mag: number; magErr: number } {
  const { flux, fluxErr } = apparentFlux(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos);
  // np.log10 of a negative number is NaN (with a warning), of 0 is -inf.
  const mag = flux < 0 ? Number.NaN : -2.5 * Math.log10(flux);
  return { mag, magErr: (fluxErr / flux) * 1.0857 };
}

/**
 * fink-utils is_source_behind: the nearest reference-image source is within 1.5 pixels, so the difference
 * magnitude is not the object's brightness.
 */
export function isSourceBehind(distnr: number): boolean {
  return distnr >= 0 && distnr <= 1.5;
}

/** SNANA's FLUXCAL and its error from a magnitude (fink-utils mag2fluxcal_snana): zero point 27.5. */
export function mag2fluxcalSnana(magpsf: number, sigmapsf: number): { flux: number; fluxErr: number } {
  return {
    flux: 10 ** (-0.4 * magpsf) * 10 ** 11,
    fluxErr: 9.21034 * 10 ** 10 * Math.exp(-0.921034 * magpsf) * sigmapsf,
  };
}

export type FinkZtfCut = 'rb-below-0.55' | 'nbad-nonzero' | 'i-band';

/**
 * Fink's ZTF cuts before the science modules: fink-filters ztf_quality_cuts (rb >= 0.55, nbad == 0; a null
 * fails, as NaN comparisons do in pandas) and the broker's i-band cut (its classifiers are trained on g and r
 * only, so alerts whose candidate is in i, fid 3, are not processed). Null when the alert passes.
 */
export function finkZtfCut(candidate: {
  rb: number | null;
  nbad: number | null;
  fid: number;
}): FinkZtfCut | null {
  if (!(candidate.rb !== null && candidate.rb >= 0.55)) return 'rb-below-0.55';
  if (candidate.nbad !== 0) return 'nbad-nonzero';
  if (candidate.fid === 3) return 'i-band';
  return null;
}

/**
 * SIMBAD types that may host an extragalactic transient (fink-utils return_list_of_eg_host, without the full
 * taxonomy conversion, as Fink's modules call it): 'Unknown', failures, supernova labels and galaxy types.
 * Fink's SN, early SN Ia and kilonova modules score only alerts whose cdsxmatch is one of these.
 */
export const EXTRAGALACTIC_HOST_TYPES: ReadonlySet<string> = new Set([
  'Unknown',
  'Candidate_SN*',
  'SN',
  'Transient',
  'Fail',
  'Fail 504',
  'galaxy',
  'Galaxy',
  'EmG',
  'Seyfert',
  'Seyfert_1',
  'Seyfert_2',
  'BlueCompG',
  'StarburstG',
  'LSB_G',
  'HII_G',
  'High_z_G',
  'GinPair',
  'GinGroup',
  'BClG',
  'GinCl',
  'PartofG',
  'Compact_Gr_G',
  'IG',
  'PairG',
  'GroupG',
  'ClG',
  'SuperClG',
  'Void',
  'LINER',
  'Possible_ClG',
  'Possible_SClG',
  'GravLens_Candidate',
  'SN*_Candidate',
]);

/** One point of a ZTF light curve with both magnitudes, for the API and the dashboard. */
export interface ZtfDcPoint {
  jd: number;
  fid: number;
  /** A detection has a magnitude (positive or negative difference); an upper limit only diffmaglim. */
  kind: 'detection' | 'upper-limit';
  /** isdiffpos 'f' or '0': the source was fainter than in the reference image. */
  negative: boolean;
  /** Difference magnitude (of |difference flux|) and error; null for upper limits. */
  magpsf: number | null;
  sigmapsf: number | null;
  diffmaglim: number | null;
  /** Apparent magnitude (dcMag) and error; null where Fink's is NaN (no reference source, ...). */
  dcmag: number | null;
  dcmagErr: number | null;
}

/** Every point of the alert (history first, the candidate last), with its DC magnitude as Fink computes it. */
export function ztfDcLightCurve(alert: Pick<ZtfAlert, 'candidate' | 'prv_candidates'>): ZtfDcPoint[] {
  const lc = ztfLightCurve(alert);
  const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return Array.from(lc.jd, (jd, i) => {
    const detected = !Number.isNaN(lc.magpsf[i]!);
    const dc = dcMag(lc.magpsf[i]!, lc.sigmapsf[i]!, lc.magnr[i]!, lc.sigmagnr[i]!, lc.isdiffpos[i]!);
    return {
      jd,
      fid: lc.fid[i]!,
      kind: detected ? 'detection' : 'upper-limit',
      negative: detected && (lc.isdiffpos[i] === 'f' || lc.isdiffpos[i] === '0'),
      magpsf: orNull(lc.magpsf[i]!),
      sigmapsf: orNull(lc.sigmapsf[i]!),
      diffmaglim: orNull(lc.diffmaglim[i]!),
      dcmag: detected ? orNull(dc.mag) : null,
      dcmagErr: detected ? orNull(dc.magErr) : null,
    };
  });
}
