// ZTF record -> survey-neutral Alert. The only place that knows ZTF's photometry field names.
import type { Band, PhotometryPoint, ZtfScienceAlert } from '../alert.ts';
import { dcMag } from '../classifiers/fink/photometry.ts';
import type { ZtfAlert, ZtfCandidate, ZtfPrvCandidate } from './ztf-avro.ts';

const ZTF_BANDS: Record<number, Band> = { 1: 'g', 2: 'r', 3: 'i' };

export function ztfBand(fid: number | null): Band | undefined {
  return fid === null ? undefined : ZTF_BANDS[fid];
}

function isNegative(isdiffpos: string | null): boolean {
  return isdiffpos === 'f' || isdiffpos === '0';
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * The apparent (DC) magnitude of a detection as Fink computes it (fink-utils dc_mag): null where Fink's is NaN or
 * infinite (no reference source, or a negative difference at least as bright as the reference).
 */
function apparent(
  point: Pick<ZtfCandidate | ZtfPrvCandidate, 'magpsf' | 'sigmapsf' | 'magnr' | 'sigmagnr' | 'isdiffpos'>,
): { dcMag: number | null; dcMagErr: number | null } {
  const dc = dcMag(point.magpsf, point.sigmapsf, point.magnr, point.sigmagnr, point.isdiffpos);
  const mag = finiteOrNull(dc.mag);
  const magErr = finiteOrNull(dc.magErr);
  return mag === null || magErr === null ? { dcMag: null, dcMagErr: null } : { dcMag: mag, dcMagErr: magErr };
}

const NO_DC = { dcMag: null, dcMagErr: null } as const;

/**
 * A history entry with a candid and a magnitude is a detection; without, an upper limit at diffmaglim.
 * Entries with an unknown filter are skipped (they cannot be placed on a light curve).
 */
function prvToPoint(prv: ZtfPrvCandidate): PhotometryPoint | undefined {
  const band = ztfBand(prv.fid);
  if (band === undefined) return undefined;
  const detected = prv.candid !== null && prv.magpsf !== null;
  return {
    jd: prv.jd,
    band,
    kind: detected ? 'detection' : 'upper-limit',
    mag: detected ? prv.magpsf : null,
    magErr: detected ? prv.sigmapsf : null,
    limitMag: prv.diffmaglim,
    flux: null,
    fluxErr: null,
    negative: detected && isNegative(prv.isdiffpos),
    ...(detected ? apparent(prv) : NO_DC),
    sourceId: detected ? prv.candid : null,
  };
}

export function ztfToAlert(record: ZtfAlert, schemaJson: string): ZtfScienceAlert {
  const { candidate } = record;
  const band = ztfBand(candidate.fid) ?? 'r';
  const current: PhotometryPoint = {
    jd: candidate.jd,
    band,
    kind: 'detection',
    mag: candidate.magpsf,
    magErr: candidate.sigmapsf,
    limitMag: candidate.diffmaglim,
    flux: null,
    fluxErr: null,
    negative: isNegative(candidate.isdiffpos),
    ...apparent(candidate),
    sourceId: candidate.candid,
  };
  const history = (record.prv_candidates ?? [])
    .map(prvToPoint)
    .filter((point): point is PhotometryPoint => point !== undefined)
    .sort((a, b) => a.jd - b.jd);
  return {
    survey: 'ztf',
    ztf: record,
    schemaJson,
    alertId: record.candid,
    objectId: record.objectId,
    ra: candidate.ra,
    dec: candidate.dec,
    jd: candidate.jd,
    band,
    mag: candidate.magpsf,
    magErr: candidate.sigmapsf,
    points: [current, ...history],
    cutouts: {
      science: record.cutoutScience?.stampData ?? null,
      template: record.cutoutTemplate?.stampData ?? null,
      difference: record.cutoutDifference?.stampData ?? null,
    },
  };
}
