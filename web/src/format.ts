// How values are shown: dates from Julian dates, magnitudes, positions.

/** Julian date of the Unix epoch. */
const JD_UNIX_EPOCH = 2440587.5;
const SECONDS_PER_DAY = 86400;

export function jdToUnixSeconds(jd: number): number {
  return (jd - JD_UNIX_EPOCH) * SECONDS_PER_DAY;
}

/** JD − MJD. */
export const MJD_OFFSET = 2400000.5;

export function jdToMjd(jd: number): number {
  return jd - MJD_OFFSET;
}

/** 2019-11-02 04:12:33 (UTC); a dash for 0, which the API gives when there is no such date (no detection). */
export function formatJd(jd: number): string {
  if (!(jd > 0)) return '–';
  return new Date(jdToUnixSeconds(jd) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function formatIso(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z?$|Z$/, '');
}

/** A date YYYY-MM-DD as Unix seconds at 00:00 UTC. */
export function nightToUnixSeconds(night: string): number {
  return Date.parse(`${night}T00:00:00Z`) / 1000;
}

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}
