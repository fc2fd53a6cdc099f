// What the archive, the science tables and the API can hold, checked once, right where a survey record has been
// mapped to the survey-neutral Alert (ztf-alert.ts, rubin-alert.ts), before any stage or sink sees a value.
//
// Two kinds of bad values:
// - Values a sink cannot hold or a reader cannot use: an alert id outside Avro's positive longs (the UInt64 key of
//   every table), an objectId the API cannot name, a position off the sphere, a time outside what ClickHouse's Date
//   and DateTime columns hold (1970 to 2106), a history or cutout or string too large to store and serve. The
//   alert is rejected with a named reason: stream2raw still archives its bytes (flagged with the reason) and
//   raw2science dead-letters it.
// - Values that are only implausible: magnitudes and errors that are not finite or outside any physical range
//   (survey sentinels such as -999 or 99), non-finite fluxes, ids that are not positive. They become null, the
//   way a survey leaves a value unknown, and the alert goes on. A right ascension outside [0, 360) is wrapped.
//
// The survey's own record (alert.ztf / alert.lsst) is left exactly as decoded: the archive and the distributed
// message carry what the survey sent; only the survey-neutral fields the pipeline reads are normalised.
import type { Alert, Cutouts, PhotometryPoint } from '../alert.ts';
import { longestStringOf } from './string-lengths.ts';

export interface IngestLimits {
  /** Points an alert's history may carry (ZTF: 30 days of prv_candidates; Rubin: 12 months of sources). */
  maxHistoryPoints: number;
  /** Bytes of one cutout image (real ZTF cutouts are ~15 KB gzipped, Rubin's ~40 KB). */
  maxCutoutBytes: number;
  /** Characters of any string in the survey record (file names, program names, designations). */
  maxStringLength: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxHistoryPoints: 5_000,
  maxCutoutBytes: 1024 * 1024,
  maxStringLength: 1024,
};

/** Every reason an alert is rejected for, stable: metrics and the dead-letter header carry them. */
export const BOUNDS_REASONS = [
  'alert-id-out-of-range',
  'object-id-invalid',
  'ra-invalid',
  'dec-out-of-range',
  'jd-out-of-range',
  'history-too-long',
  'cutout-too-large',
  'string-too-long',
] as const;

export type BoundsReason = (typeof BOUNDS_REASONS)[number];

export type BoundsCheck =
  { kind: 'ok'; alert: Alert } | { kind: 'rejected'; reason: BoundsReason; detail: string };

/** Object ids the API accepts (resolvers/arguments.ts): ZTF objectId, Rubin diaObjectId and its prefixed forms. */
export const OBJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Avro longs are signed: a valid alert id is a positive one, which every UInt64 column holds. */
const MAX_ALERT_ID = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const JD_UNIX_EPOCH = 2440587.5;
/**
 * Times the tables hold: a DateTime (UInt32 seconds) ends in February 2106, and a night (Date) is the UTC date of
 * the exposure, Rubin's shifted 12 hours back (sky.ts nightOf), so one day of margin at each end.
 */
export const MIN_JD = JD_UNIX_EPOCH + 1;
export const MAX_JD = JD_UNIX_EPOCH + Math.floor(2 ** 32 / 86_400) - 1;

/** The brightest transient a survey could report is far fainter than -5; 35 is far below any survey's depth. */
const MAG_RANGE = [-5, 35] as const;
const MAG_ERR_RANGE = [0, 10] as const;

function inRange(value: number | null, [min, max]: readonly [number, number]): number | null {
  return value !== null && Number.isFinite(value) && value >= min && value <= max ? value : null;
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function jdInRange(jd: number): boolean {
  return Number.isFinite(jd) && jd >= MIN_JD && jd <= MAX_JD;
}

function sourceIdOrNull(id: bigint | null): bigint | null {
  return id !== null && id > 0n && id <= UINT64_MAX ? id : null;
}

/** The DC magnitude and its error are kept together or not at all. */
function dcOrNull(point: PhotometryPoint): Pick<PhotometryPoint, 'dcMag' | 'dcMagErr'> {
  const dcMag = inRange(point.dcMag, MAG_RANGE);
  const dcMagErr = inRange(point.dcMagErr, MAG_ERR_RANGE);
  return dcMag === null || dcMagErr === null ? { dcMag: null, dcMagErr: null } : { dcMag, dcMagErr };
}

/** A point with every measurement either plausible or null; undefined when its time is unusable. */
function normalisePoint(point: PhotometryPoint): PhotometryPoint | undefined {
  if (!jdInRange(point.jd)) return undefined;
  return {
    ...point,
    mag: inRange(point.mag, MAG_RANGE),
    magErr: inRange(point.magErr, MAG_ERR_RANGE),
    limitMag: inRange(point.limitMag, MAG_RANGE),
    ...dcOrNull(point),
    flux: finiteOrNull(point.flux),
    fluxErr: finiteOrNull(point.fluxErr),
    sourceId: sourceIdOrNull(point.sourceId),
  };
}

/**
 * The first string longer than `max` in a decoded record (depth-first), as a dotted path; null when none. The path
 * is built only for the string found: a record has thousands of fields and almost never a long string.
 */
function longString(value: object, max: number): string | null {
  const measured = longestStringOf(value);
  if (measured !== undefined && measured <= max) return null;
  if (!hasLongString(value, max)) return null;
  const path = longStringPath(value, max);
  if (path === null) return null;
  return path.reduce<string>(
    (text, step) => (typeof step === 'number' ? `${text}[${step}]` : text === '' ? step : `${text}.${step}`),
    '',
  );
}

/**
 * Whether a string longer than `max` is anywhere in `value`: the walk over every field. Indexes and for-in, not
 * Object.values: no array allocated per record (half the time on a ZTF alert).
 */
function hasLongString(value: object, max: number): boolean {
  if (ArrayBuffer.isView(value)) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (isOrHoldsLongString(value[i], max)) return true;
    }
    return false;
  }
  for (const key in value) {
    if (isOrHoldsLongString((value as Record<string, unknown>)[key], max)) return true;
  }
  return false;
}

function isOrHoldsLongString(item: unknown, max: number): boolean {
  if (typeof item === 'string') return item.length > max;
  return typeof item === 'object' && item !== null && hasLongString(item, max);
}

/** The steps to the first long string, innermost last; null when none. */
function longStringPath(value: unknown, max: number): (string | number)[] | null {
  if (typeof value === 'string') return value.length > max ? [] : null;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = longStringPath(value[i], max);
      if (found !== null) {
        found.unshift(i);
        return found;
      }
    }
    return null;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const found = longStringPath((value as Record<string, unknown>)[key], max);
    if (found !== null) {
      found.unshift(key);
      return found;
    }
  }
  return null;
}

function describe(value: unknown): string {
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
  return text === undefined
    ? String(value)
    : text.length > 40
      ? `${text.slice(0, 40)}... (${text.length})`
      : text;
}

/**
 * The alert with its survey-neutral values normalised (see the header), or the first reason it cannot be stored.
 * Pure; never throws for any decoded alert.
 */
export function checkAlertBounds(alert: Alert, limits: IngestLimits = DEFAULT_INGEST_LIMITS): BoundsCheck {
  const reject = (reason: BoundsReason, detail: string): BoundsCheck => ({
    kind: 'rejected',
    reason,
    detail,
  });
  if (alert.alertId < 1n || alert.alertId > MAX_ALERT_ID) {
    return reject('alert-id-out-of-range', `alert id ${alert.alertId} is not a positive 64-bit integer`);
  }
  if (!OBJECT_ID_PATTERN.test(alert.objectId)) {
    return reject(
      'object-id-invalid',
      `objectId ${describe(alert.objectId)} is not 1 to 64 of [A-Za-z0-9_-]`,
    );
  }
  if (!Number.isFinite(alert.ra)) return reject('ra-invalid', `ra is ${alert.ra}`);
  if (!(alert.dec >= -90 && alert.dec <= 90)) return reject('dec-out-of-range', `dec is ${alert.dec}`);
  if (!jdInRange(alert.jd)) {
    return reject('jd-out-of-range', `jd ${alert.jd} is outside ${MIN_JD}..${MAX_JD} (1970 to 2106)`);
  }
  const history = alert.points.length - 1;
  if (history > limits.maxHistoryPoints) {
    return reject('history-too-long', `${history} history points, at most ${limits.maxHistoryPoints}`);
  }
  for (const name of ['science', 'template', 'difference'] as const) {
    const bytes = alert.cutouts[name]?.length ?? 0;
    if (bytes > limits.maxCutoutBytes) {
      return reject(
        'cutout-too-large',
        `${name} cutout has ${bytes} bytes, at most ${limits.maxCutoutBytes}`,
      );
    }
  }
  const record = alert.survey === 'ztf' ? alert.ztf : alert.lsst;
  const tooLong = longString(record, limits.maxStringLength);
  if (tooLong !== null) {
    return reject('string-too-long', `${tooLong} is longer than ${limits.maxStringLength} characters`);
  }

  return { kind: 'ok', alert: normaliseAlert(alert) };
}

/**
 * The survey-neutral values made plausible or null (see the header); the limits are not checked. What raw2science
 * stores is this of an alert that passed checkAlertBounds: whoever maps a survey record again must apply it too.
 */
export function normaliseAlert(alert: Alert): Alert {
  const points = alert.points.map(normalisePoint).filter((p): p is PhotometryPoint => p !== undefined);
  const cutouts: Cutouts = {
    science: nonEmpty(alert.cutouts.science),
    template: nonEmpty(alert.cutouts.template),
    difference: nonEmpty(alert.cutouts.difference),
  };
  return {
    ...alert,
    ra: wrapRa(alert.ra),
    dec: alert.dec === 0 ? 0 : alert.dec,
    mag: inRange(alert.mag, MAG_RANGE),
    magErr: inRange(alert.magErr, MAG_ERR_RANGE),
    points,
    cutouts,
  };
}

/** ra in [0, 360): 360 is 0, -10 is 350, -0 is 0 (a HEALPix cell and a cone test must not tell them apart). */
function wrapRa(ra: number): number {
  if (ra >= 0 && ra < 360) return ra === 0 ? 0 : ra;
  const wrapped = ((ra % 360) + 360) % 360;
  return wrapped === 360 || wrapped === 0 ? 0 : wrapped;
}

function nonEmpty(bytes: Buffer | null): Buffer | null {
  return bytes !== null && bytes.length > 0 ? bytes : null;
}

/** The key fields stream2raw archives for a message, whatever its values: every one fits its column. */
export interface ArchiveKey {
  /** Avro's signed long as its unsigned 64-bit pattern: exact and distinct from every valid (positive) id. */
  alertId: bigint;
  /** '' when the objectId is not one the API could name (the bytes still carry it). */
  objectId: string;
  ra: number;
  dec: number;
  jd: number;
}

export function archiveKeyOf(alert: Alert): ArchiveKey {
  return {
    alertId: BigInt.asUintN(64, alert.alertId),
    objectId: OBJECT_ID_PATTERN.test(alert.objectId) ? alert.objectId : '',
    ra: alert.ra,
    dec: alert.dec,
    jd: alert.jd,
  };
}
