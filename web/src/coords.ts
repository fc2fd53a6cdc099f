// Sky positions as people type them: decimal degrees, or sexagesimal (RA in hours, Dec in degrees) with colons,
// spaces or h/m/s and d/m/s (°, ′, ″ too). Pure functions, shared by the search forms and their unit tests.

export class CoordinateError extends Error {
  override name = 'CoordinateError';
}

const SEPARATORS = /[hHdD°:'′"″mMsS\s]+/;

/** The sign and the (up to three) unsigned numeric parts of a sexagesimal text; null when it is not one. */
function sexagesimalParts(text: string): { sign: number; parts: number[] } | null {
  const trimmed = text.trim();
  const sign = trimmed.startsWith('-') || trimmed.startsWith('−') ? -1 : 1;
  const body = trimmed.replace(/^[+\-−]/, '');
  if (!/^[\d.\s:hHdD°'′"″mMsS]+$/.test(body)) return null;
  const parts = body
    .split(SEPARATORS)
    .filter((p) => p !== '')
    .map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p))) return null;
  // Only the last part may have a fraction; minutes and seconds are below 60.
  if (parts.slice(0, -1).some((p) => !Number.isInteger(p))) return null;
  if (parts.slice(1).some((p) => p >= 60)) return null;
  return { sign, parts };
}

function sexagesimalValue(parts: readonly number[]): number {
  return (parts[0] ?? 0) + (parts[1] ?? 0) / 60 + (parts[2] ?? 0) / 3600;
}

/** Right ascension in degrees [0, 360), from degrees ("193.82") or hours ("12:55:17.3", "12h55m17.3s"). */
export function parseRa(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new CoordinateError('RA is empty');
  const degrees = Number(trimmed);
  let value: number;
  if (Number.isFinite(degrees)) {
    value = degrees;
  } else {
    const found = sexagesimalParts(trimmed);
    if (found === null || found.sign < 0)
      throw new CoordinateError(`RA "${trimmed}" is neither degrees nor hh:mm:ss`);
    if (found.parts[0]! >= 24) throw new CoordinateError(`RA "${trimmed}": hours must be below 24`);
    value = sexagesimalValue(found.parts) * 15;
  }
  if (!(value >= 0 && value < 360)) throw new CoordinateError(`RA ${trimmed} must be in [0, 360) degrees`);
  return value;
}

/** Declination in degrees [-90, 90], from degrees ("-2.5") or sexagesimal ("-02:30:00", "+2d30m00s"). */
export function parseDec(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new CoordinateError('Dec is empty');
  const degrees = Number(trimmed.replace('−', '-'));
  let value: number;
  if (Number.isFinite(degrees)) {
    value = degrees;
  } else {
    const found = sexagesimalParts(trimmed);
    if (found === null) throw new CoordinateError(`Dec "${trimmed}" is neither degrees nor ±dd:mm:ss`);
    value = found.sign * sexagesimalValue(found.parts);
  }
  if (!(value >= -90 && value <= 90))
    throw new CoordinateError(`Dec ${trimmed} must be in [-90, 90] degrees`);
  return value;
}

/**
 * A position pasted whole into one box: "193.82 2.89", "12:55:17.3 +02:53:49", "12h55m17.3s -2d53m49s".
 * Null when the text does not split into an RA and a Dec.
 */
export function splitPosition(text: string): { ra: number; dec: number } | null {
  const trimmed = text.trim().replace(/,/g, ' ');
  // The Dec starts at its sign, or, without one, halfway through the numeric groups.
  const signed = /^(.*?\S)\s*([+\-−]\s*\d.*)$/.exec(trimmed);
  const candidates: [string, string][] = [];
  if (signed !== null) candidates.push([signed[1]!, signed[2]!.replace(/^([+\-−])\s+/, '$1')]);
  const groups = trimmed.split(/\s+/);
  if (groups.length % 2 === 0 && groups.length >= 2) {
    const half = groups.length / 2;
    candidates.push([groups.slice(0, half).join(' '), groups.slice(half).join(' ')]);
  }
  for (const [ra, dec] of candidates) {
    try {
      return { ra: parseRa(ra), dec: parseDec(dec) };
    } catch {
      // Try the next split.
    }
  }
  return null;
}

/** RA in hours and Dec in degrees, sexagesimal: "12:55:17.28 +02:53:49.2". */
export function formatSexagesimal(ra: number, dec: number): string {
  const sexa = (value: number, decimals: number) => {
    const total = Math.round(Math.abs(value) * 3600 * 10 ** decimals) / 10 ** decimals;
    const whole = Math.floor(total / 3600);
    const minutes = Math.floor((total - whole * 3600) / 60);
    const seconds = total - whole * 3600 - minutes * 60;
    const secondsText = seconds.toFixed(decimals).padStart(decimals > 0 ? 3 + decimals : 2, '0');
    return `${String(whole).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${secondsText}`;
  };
  return `${sexa(ra / 15, 2)} ${dec < 0 ? '-' : '+'}${sexa(dec, 1)}`;
}
