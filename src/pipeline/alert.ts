// The survey-neutral alert every stage after decoding sees. Survey field names (candid, magpsf, diaSourceId,
// psfFlux) stay at the boundary: each survey is mapped into this shape once, by its decoder module.
import type { RubinAlert } from './decode/rubin-avro.ts';
import type { ZtfAlert } from './decode/ztf-avro.ts';

export const SURVEYS = ['ztf', 'lsst'] as const;
export type Survey = (typeof SURVEYS)[number];

/** Photometric band. ZTF uses g, r, i (fid 1, 2, 3); Rubin u, g, r, i, z, y. */
export type Band = 'u' | 'g' | 'r' | 'i' | 'z' | 'y';

/** One point of a light curve. */
export interface PhotometryPoint {
  /** Julian date of the exposure (ZTF jd; Rubin midpointMjdTai + 2400000.5). */
  jd: number;
  band: Band;
  /**
   * detection: a source was found (has mag); upper-limit: nothing found, only limitMag (ZTF);
   * forced: forced photometry at the object's position (Rubin diaForcedSource, flux only).
   */
  kind: 'detection' | 'upper-limit' | 'forced';
  /** AB magnitude of the difference flux; null for upper limits and non-positive fluxes. */
  mag: number | null;
  magErr: number | null;
  /** Limiting magnitude of the exposure (ZTF diffmaglim); null when unknown. */
  limitMag: number | null;
  /** Difference-image flux and error in nJy (Rubin); null for ZTF. */
  flux: number | null;
  fluxErr: number | null;
  /** True when the difference is negative (ZTF isdiffpos 'f'/'0', Rubin psfFlux < 0). */
  negative: boolean;
  /**
   * Apparent (DC) magnitude and error of a ZTF detection: reference flux plus or minus the difference flux, as
   * Fink's dc_mag computes it. Null without a reference source (magnr/sigmagnr missing or < 0), when the sum is
   * not positive, for upper limits and for Rubin (whose difference fluxes are not tied to a reference source).
   */
  dcMag: number | null;
  dcMagErr: number | null;
  /** The detection's own id (ZTF candid, Rubin diaSourceId); null for limits and forced points. */
  sourceId: bigint | null;
}

export interface Cutouts {
  /** Gzipped FITS for ZTF, FITS for Rubin: stored exactly as received. */
  science: Buffer | null;
  template: Buffer | null;
  difference: Buffer | null;
}

interface AlertCommon {
  /** ZTF candid, Rubin diaSourceId: unique per alert, the idempotency key of every write. */
  alertId: bigint;
  /** ZTF objectId, Rubin diaObjectId (as decimal text; ssObjectId for solar-system sources without one). */
  objectId: string;
  ra: number;
  dec: number;
  jd: number;
  band: Band;
  /** The triggering detection's magnitude, when its flux is positive. */
  mag: number | null;
  magErr: number | null;
  /** The triggering detection first, then the history carried by the alert, sorted by time. */
  points: PhotometryPoint[];
  cutouts: Cutouts;
  /** The Avro writer schema of the survey record (ztf / lsst) as JSON text: the enriched alert extends it. */
  schemaJson: string;
}

export type Alert = AlertCommon & ({ survey: 'ztf'; ztf: ZtfAlert } | { survey: 'lsst'; lsst: RubinAlert });

export type ZtfScienceAlert = Extract<Alert, { survey: 'ztf' }>;
export type RubinScienceAlert = Extract<Alert, { survey: 'lsst' }>;

/** AB magnitude from a flux in nJy (31.4 = the AB zero point in nJy). Null for non-positive flux. */
export function fluxToMag(fluxNjy: number): number | null {
  return fluxNjy > 0 ? -2.5 * Math.log10(fluxNjy) + 31.4 : null;
}

/** Magnitude error from flux and flux error (first-order propagation). */
export function fluxErrToMagErr(fluxNjy: number, fluxErrNjy: number): number | null {
  return fluxNjy > 0 ? (2.5 / Math.LN10) * (fluxErrNjy / fluxNjy) : null;
}

export const MJD_TO_JD = 2400000.5;
