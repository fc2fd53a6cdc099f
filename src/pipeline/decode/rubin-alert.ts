// Rubin record -> survey-neutral Alert. The only place that knows Rubin's photometry field names.
//
// Rubin measures fluxes in nJy on the difference image; magnitudes are derived here (AB, zero point 31.4) and only
// for positive fluxes. Times are MJD in TAI and become JD by adding 2400000.5, without the 37 s TAI-UTC
// correction: this is the convention the Fink broker uses for Rubin, and it keeps jd a pure function of the
// stored midpointMjdTai.
import { MJD_TO_JD, fluxErrToMagErr, fluxToMag } from '../alert.ts';
import type { Band, PhotometryPoint, RubinScienceAlert } from '../alert.ts';
import type { RubinAlert, RubinDiaForcedSource, RubinDiaSource } from './rubin-avro.ts';

const RUBIN_BANDS: ReadonlySet<string> = new Set<Band>(['u', 'g', 'r', 'i', 'z', 'y']);

export function rubinBand(band: string | null): Band | undefined {
  return band !== null && RUBIN_BANDS.has(band) ? (band as Band) : undefined;
}

/** Rubin sends 0 where the schema documents null (no diaObject, no ssObject): both mean "none". */
function presentId(id: bigint | null): bigint | undefined {
  return id === null || id === 0n ? undefined : id;
}

/**
 * The object an alert belongs to: its diaObjectId in decimal, or for a solar-system source that has no diaObject
 * its ssObjectId prefixed with 'ss' (the two id spaces are distinct, the prefix keeps them apart in one column).
 */
export function rubinObjectId(source: RubinDiaSource): string {
  const diaObjectId = presentId(source.diaObjectId);
  if (diaObjectId !== undefined) return diaObjectId.toString();
  const ssObjectId = presentId(source.ssObjectId);
  if (ssObjectId !== undefined) return `ss${ssObjectId}`;
  // Neither: every diaSource is associated with one or the other, so keep the alert, keyed by its own source.
  return `dia${source.diaSourceId}`;
}

function detectionPoint(source: RubinDiaSource, band: Band): PhotometryPoint {
  const flux = source.psfFlux;
  return {
    jd: source.midpointMjdTai + MJD_TO_JD,
    band,
    kind: 'detection',
    mag: flux === null ? null : fluxToMag(flux),
    magErr: flux === null || source.psfFluxErr === null ? null : fluxErrToMagErr(flux, source.psfFluxErr),
    limitMag: null,
    flux,
    fluxErr: source.psfFluxErr,
    negative: flux !== null && flux < 0,
    dcMag: null,
    dcMagErr: null,
    sourceId: source.diaSourceId,
  };
}

function forcedPoint(forced: RubinDiaForcedSource, band: Band, flux: number): PhotometryPoint {
  return {
    jd: forced.midpointMjdTai + MJD_TO_JD,
    band,
    kind: 'forced',
    mag: fluxToMag(flux),
    magErr: forced.psfFluxErr === null ? null : fluxErrToMagErr(flux, forced.psfFluxErr),
    limitMag: null,
    flux,
    fluxErr: forced.psfFluxErr,
    negative: flux < 0,
    dcMag: null,
    dcMagErr: null,
    sourceId: null,
  };
}

/**
 * The survey-neutral alert of a decoded record; `schemaJson` is the writer schema it was decoded with.
 * Points: the triggering diaSource first, then the earlier detections and the forced photometry sorted by time.
 * History entries with no usable band, and forced measurements without a flux, are skipped: they cannot be
 * placed on a light curve.
 */
export function rubinToAlert(record: RubinAlert, schemaJson: string): RubinScienceAlert {
  const source = record.diaSource;
  const band = rubinBand(source.band);
  // The decoder rejects alerts whose triggering diaSource has no usable band ('missing-field').
  if (band === undefined)
    throw new TypeError(`alert ${record.diaSourceId}: diaSource.band is ${source.band}`);
  const current = detectionPoint(source, band);

  const history: PhotometryPoint[] = [];
  for (const prv of record.prvDiaSources ?? []) {
    const prvBand = rubinBand(prv.band);
    // The alert's own source never repeats in its history; guard anyway so that a point is never counted twice.
    if (prvBand !== undefined && prv.diaSourceId !== source.diaSourceId)
      history.push(detectionPoint(prv, prvBand));
  }
  for (const forced of record.prvDiaForcedSources ?? []) {
    const forcedBand = rubinBand(forced.band);
    if (forcedBand !== undefined && forced.psfFlux !== null)
      history.push(forcedPoint(forced, forcedBand, forced.psfFlux));
  }
  history.sort((a, b) => a.jd - b.jd);

  return {
    survey: 'lsst',
    lsst: record,
    schemaJson,
    alertId: record.diaSourceId,
    objectId: rubinObjectId(source),
    ra: source.ra,
    dec: source.dec,
    jd: current.jd,
    band,
    mag: current.mag,
    magErr: current.magErr,
    points: [current, ...history],
    cutouts: {
      science: record.cutoutScience,
      template: record.cutoutTemplate,
      difference: record.cutoutDifference,
    },
  };
}
