// Arguments of the REST API as Fink's object API takes them: query parameters (GET or POST), a JSON object body
// or an HTML form body (POST). Each route declares its arguments (name, required, description, as in Fink's
// apps/routes/v1/*); a missing required one, an unknown one or a value that does not parse is a RestError 400
// whose message names the argument.
import { EXPORT_FORMATS, type ExportFormat } from '../../export/encoders.ts';

export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    message: string,
    /** The argument at fault, when one is. */
    readonly argument?: string,
  ) {
    super(message);
  }
}

export interface ArgSpec {
  name: string;
  required: boolean;
  description: string;
}

export type Payload = Record<string, unknown>;

/** The request's arguments: query parameters, overridden by a JSON object or form body. */
export function parsePayload(
  search: URLSearchParams,
  body: string,
  contentType: string | undefined,
): Payload {
  const payload: Payload = {};
  for (const [key, value] of search) payload[key] = value;
  const text = body.trim();
  if (text === '') return payload;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded' || (type !== 'application/json' && !/^[[{]/.test(text))) {
    for (const [key, value] of new URLSearchParams(text)) payload[key] = value;
    return payload;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RestError(400, 'the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RestError(400, 'the request body must be a JSON object of arguments');
  }
  Object.assign(payload, parsed);
  return payload;
}

/** Checks that every required argument is there and that no unknown one is. */
export function checkArgs(route: string, specs: readonly ArgSpec[], payload: Payload): void {
  for (const spec of specs) {
    if (spec.required && (payload[spec.name] === undefined || payload[spec.name] === null)) {
      throw new RestError(
        400,
        `A value for \`${spec.name}\` is required (${route}: ${spec.description})`,
        spec.name,
      );
    }
  }
  const known = new Set(specs.map((spec) => spec.name));
  for (const name of Object.keys(payload)) {
    if (!known.has(name)) {
      throw new RestError(
        400,
        `\`${name}\` is not an argument of ${route}; its arguments are ${[...known].join(', ')}`,
        name,
      );
    }
  }
}

function bad(name: string, expected: string, value: unknown): RestError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return new RestError(400, `\`${name}\` must be ${expected} (got ${shown.slice(0, 80)})`, name);
}

export function stringArg(payload: Payload, name: string): string | undefined {
  const value = payload[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(name, 'a string', value);
}

export function requiredString(payload: Payload, name: string): string {
  const value = stringArg(payload, name);
  if (value === undefined || value.trim() === '') throw bad(name, 'a non-empty string', value ?? '');
  return value.trim();
}

/** Fink compares str(value) == "True"; true, "true", "True", "1", "yes" are true, and their opposites false. */
export function booleanArg(payload: Payload, name: string, fallback = false): boolean {
  const value = payload[name];
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw bad(name, 'a boolean (True or False)', value);
  const text = String(value).trim().toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no'].includes(text)) return false;
  throw bad(name, 'a boolean (True or False)', value);
}

export function numberArg(
  payload: Payload,
  name: string,
  bounds: { min?: number; max?: number } = {},
): number | undefined {
  const value = payload[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(number)) throw bad(name, 'a number', value);
  if (bounds.min !== undefined && number < bounds.min) throw bad(name, `at least ${bounds.min}`, value);
  if (bounds.max !== undefined && number > bounds.max) throw bad(name, `at most ${bounds.max}`, value);
  return number;
}

export function integerArg(
  payload: Payload,
  name: string,
  fallback: number,
  bounds: { min: number; max: number },
): number {
  const number = numberArg(payload, name, bounds);
  if (number === undefined) return fallback;
  if (!Number.isInteger(number)) throw bad(name, 'an integer', payload[name]);
  return number;
}

export function outputFormat(payload: Payload): ExportFormat {
  const value = (stringArg(payload, 'output-format') ?? 'json').trim().toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
    throw new RestError(
      400,
      `\`output-format\` ${JSON.stringify(value)} is not supported. Choose among ${EXPORT_FORMATS.join(', ')}`,
      'output-format',
    );
  }
  return value as ExportFormat;
}

/** `columns`: a comma-separated list, spaces ignored; undefined when absent or empty. */
export function columnsArg(payload: Payload): string[] | undefined {
  const value = stringArg(payload, 'columns');
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return names.length === 0 ? undefined : names;
}

/** A comma-separated list of names (objectId, n_or_d), at most `max`. */
export function listArg(payload: Payload, name: string, max: number): string[] {
  const names = requiredString(payload, name)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (names.length === 0) throw bad(name, 'a non-empty comma-separated list', payload[name]);
  if (names.length > max) throw bad(name, `a list of at most ${max} names`, `${names.length} names`);
  return names;
}

const JD_UNIX_EPOCH = 2440587.5;
const MJD_OFFSET = 2400000.5;

/**
 * A date as Fink takes it: ISO text in UTC ('2021-06-10 12:30:00', '2021-06-10T12:30:00', '2021-06-10'), a
 * Julian date (a number above 2,400,000) or a modified Julian date; as a Julian date.
 */
export function dateArg(payload: Payload, name: string): number | undefined {
  const value = payload[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw bad(name, 'a date', value);
  const text = String(value).trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
    const number = Number(text);
    return number >= 2_400_000 ? number : number + MJD_OFFSET;
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?Z?$/.exec(text);
  if (iso !== null) {
    const [, y, mo, d, h = '0', mi = '0', s = '0'] = iso;
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)) + Number(s) * 1000;
    if (Number.isFinite(ms) && new Date(ms).getUTCMonth() === Number(mo) - 1) {
      return ms / 86_400_000 + JD_UNIX_EPOCH;
    }
  }
  throw bad(name, 'a date in UTC: ISO (2021-06-10 12:30:00), a Julian date or a modified Julian date', value);
}

export function nowJd(): number {
  return Date.now() / 86_400_000 + JD_UNIX_EPOCH;
}
