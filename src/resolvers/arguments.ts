// Argument checks shared by the resolvers. Each failure is BAD_USER_INPUT naming the argument as the client
// wrote it, so a notebook user sees which value to fix.
import type { ServerConfig } from '../config.ts';
import { FilterError, validateFilter, type FilterLimits } from '../filters/validate.ts';
import { badInput } from './errors.ts';
import type { AlertFilterSpec } from '../storage/alert-filter.ts';

const UINT64_MAX = 2n ** 64n - 1n;
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A 64-bit alert id (candid / diaSourceId) given as decimal text. */
export function alertIdArg(value: string, argument: string): bigint {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) > UINT64_MAX) {
    throw badInput(argument, 'must be an unsigned 64-bit integer in decimal');
  }
  return BigInt(value);
}

/** A ZTF objectId (ZTF21abcdefg) or a Rubin diaObjectId (decimal). */
export function objectIdArg(value: string, argument: string): string {
  if (!OBJECT_ID.test(value)) throw badInput(argument, 'must be 1 to 64 letters, digits, _ or -');
  return value;
}

export function idListArg<T>(
  values: readonly string[],
  argument: string,
  config: ServerConfig,
  parse: (value: string, argument: string) => T,
): T[] {
  if (values.length > config.maxIds) throw badInput(argument, `at most ${config.maxIds} ids`);
  return values.map((value, i) => parse(value, `${argument}[${i}]`));
}

export function finiteArg(value: number, argument: string, min = -Infinity, max = Infinity): number {
  if (!Number.isFinite(value)) throw badInput(argument, 'must be a finite number');
  if (value < min || value > max) throw badInput(argument, `must be between ${min} and ${max}`);
  return value;
}

export function pageSizeArg(
  value: number | undefined | null,
  argument: string,
  config: ServerConfig,
): number {
  if (value === undefined || value === null) return config.defaultPageSize;
  if (!Number.isInteger(value) || value < 1 || value > config.maxPageSize) {
    throw badInput(argument, `must be an integer from 1 to ${config.maxPageSize}`);
  }
  return value;
}

export interface ConeArgs {
  ra: number;
  dec: number;
  radiusArcsec: number;
}

export function coneArgs(cone: ConeArgs, prefix: string, config: ServerConfig): ConeArgs {
  return {
    ra: finiteArg(cone.ra, `${prefix}ra`, 0, 360),
    dec: finiteArg(cone.dec, `${prefix}dec`, -90, 90),
    radiusArcsec: positiveRadius(cone.radiusArcsec, `${prefix}radiusArcsec`, config),
  };
}

function positiveRadius(value: number, argument: string, config: ServerConfig): number {
  finiteArg(value, argument);
  if (value <= 0 || value > config.maxConeRadiusArcsec) {
    throw badInput(argument, `must be > 0 and at most ${config.maxConeRadiusArcsec} arcsec`);
  }
  return value;
}

/** A filter argument validated (src/filters/validate.ts); what it refuses is BAD_USER_INPUT naming the path. */
export function filterArg(filter: unknown, argument: string, limits: FilterLimits): AlertFilterSpec {
  try {
    return validateFilter(filter, argument, limits);
  } catch (error) {
    if (error instanceof FilterError) throw badInput(error.path, error.reason);
    throw error;
  }
}
