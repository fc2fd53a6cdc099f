// Turns a client's filter (a GraphQL AlertFilter input, or the JSON of a saved filter) into an AlertFilterSpec,
// or refuses it with a FilterError naming the offending argument by its path (`filter.and[1].mag.min`); the API
// answers it as BAD_USER_INPUT (src/resolvers/arguments.ts filterArg).
// Everything is checked at run time, whatever the static type says: saved definitions come back from storage
// as JSON, and GraphQL inputs carry explicit nulls.
import {
  ComparisonOp,
  FILTER_BANDS,
  FILTER_SURVEYS,
  FilterField,
  type AlertFilterSpec,
  type ConeSpec,
  type CrossmatchSpec,
  type FieldComparisonSpec,
  type RangeSpec,
} from '../storage/alert-filter.ts';

/** A filter that cannot be used, and where: `path` is the argument as the client wrote it. */
export class FilterError extends Error {
  override name = 'FilterError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

function badInput(path: string, reason: string): FilterError {
  return new FilterError(path, reason);
}

/** A filter nested deeper than this, or with more nodes, is refused: compiling and evaluating stay bounded. */
export const MAX_FILTER_DEPTH = 8;
export const MAX_FILTER_NODES = 200;
/**
 * Conditions of a whole filter: a comparison, a range, a list (band, survey, label, roid: one condition however
 * many items), a cross-match, a watchlist or a rising flag counts 1, a cone CONE_CONDITIONS (its SQL is the
 * haversine, some 25 operations). ClickHouse 18.16 analyses an expression in time quadratic in its size: at this
 * limit a search's SQL is analysed in about a second (1,000 nullable comparisons 1.2 s, 200 cones 0.6-1 s,
 * measured on the 2-core test machine); at 4,000 comparisons it took 26 s.
 */
export const MAX_FILTER_CONDITIONS = 1000;
export const CONE_CONDITIONS = 5;
/** Items in one list (`band`, `label`, `compare`, `and`, ...). */
export const MAX_FILTER_LIST_ITEMS = 100;
/** Characters in one string (label, catalog, watchlist id). */
export const MAX_FILTER_STRING_LENGTH = 200;

export interface FilterLimits {
  /** The server's `maxConeRadiusArcsec`. */
  maxConeRadiusArcsec: number;
  /**
   * The classes a `label` may name (src/pipeline/classifiers/vocabulary.ts alertClasses); another is refused,
   * listing them, instead of matching nothing. Absent: any label (a saved definition read back from storage).
   */
  classes?: readonly string[];
}

/** Classes named in a refusal; beyond, the message points at the `alertClasses` query. */
const MAX_LISTED_CLASSES = 40;

/** Why a class is refused, listing the valid ones (the first MAX_LISTED_CLASSES). */
export function unknownClassReason(label: string, classes: readonly string[]): string {
  const listed = classes.slice(0, MAX_LISTED_CLASSES).map((name) => `'${name}'`);
  const more =
    classes.length > MAX_LISTED_CLASSES
      ? ` and ${classes.length - MAX_LISTED_CLASSES} more: query alertClasses`
      : '';
  return `unknown class '${label}' (valid classes: ${listed.join(', ')}${more})`;
}

/** Whether a validated filter names a class anywhere (then its classes are worth checking). */
export function filterNamesClass(spec: AlertFilterSpec): boolean {
  if (spec.label !== undefined && spec.label.length > 0) return true;
  return (
    (spec.and ?? []).some(filterNamesClass) ||
    (spec.or ?? []).some(filterNamesClass) ||
    (spec.not !== undefined && filterNamesClass(spec.not))
  );
}

type Input = Record<string, unknown>;

const KEYS = new Set<string>([
  'and',
  'or',
  'not',
  'compare',
  'cone',
  'band',
  'survey',
  'mag',
  'rate',
  'label',
  'roid',
  'crossmatch',
  'sinceFirstDetectionDays',
  'watchlist',
  'rising',
]);
const FIELDS = new Set<string>(Object.values(FilterField));
const OPS = new Set<string>(Object.values(ComparisonOp));
const ROID_VALUES = [0, 1, 2, 3];

function isObject(value: unknown): value is Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Present means neither undefined nor null: GraphQL passes an explicit `null` for "no condition". */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput(path, 'must be finite');
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string') throw badInput(path, 'must be a string');
  if (value.length > MAX_FILTER_STRING_LENGTH) {
    throw badInput(path, `must be at most ${MAX_FILTER_STRING_LENGTH} characters`);
  }
  if (!value.isWellFormed()) throw badInput(path, 'must be valid Unicode');
  return value;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw badInput(path, 'must be a list');
  // An empty list would be a filter that silently matches nothing (or, for and/or, a reader's puzzle).
  if (value.length === 0) throw badInput(path, 'must not be empty');
  if (value.length > MAX_FILTER_LIST_ITEMS) {
    throw badInput(path, `must have at most ${MAX_FILTER_LIST_ITEMS} items`);
  }
  return value;
}

function oneOf(value: unknown, path: string, allowed: readonly string[]): string {
  const name = text(value, path);
  if (!allowed.includes(name))
    throw badInput(path, `unknown value '${name}' (one of: ${allowed.join(', ')})`);
  return name;
}

function range(value: unknown, path: string): RangeSpec {
  if (!isObject(value)) throw badInput(path, 'must be an object with min and/or max');
  unknownKeys(value, path, ['min', 'max']);
  const spec: RangeSpec = {};
  if (present(value.min)) spec.min = finite(value.min, `${path}.min`);
  if (present(value.max)) spec.max = finite(value.max, `${path}.max`);
  if (spec.min === undefined && spec.max === undefined) throw badInput(path, 'needs min or max');
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
    throw badInput(`${path}.min`, 'must not be greater than max');
  }
  return spec;
}

function unknownKeys(value: Input, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw badInput(`${path}.${key}`, 'is not a known key');
  }
}

function cone(value: unknown, path: string, limits: FilterLimits): ConeSpec {
  if (!isObject(value)) throw badInput(path, 'must be an object { ra, dec, radiusArcsec }');
  unknownKeys(value, path, ['ra', 'dec', 'radiusArcsec']);
  const ra = finite(value.ra, `${path}.ra`);
  const dec = finite(value.dec, `${path}.dec`);
  const radiusArcsec = finite(value.radiusArcsec, `${path}.radiusArcsec`);
  if (ra < 0 || ra >= 360) throw badInput(`${path}.ra`, 'must be in [0, 360) degrees');
  if (dec < -90 || dec > 90) throw badInput(`${path}.dec`, 'must be in [-90, 90] degrees');
  if (!(radiusArcsec > 0) || radiusArcsec > limits.maxConeRadiusArcsec) {
    throw badInput(`${path}.radiusArcsec`, `must be > 0 and <= ${limits.maxConeRadiusArcsec}`);
  }
  return { ra, dec, radiusArcsec };
}

function comparison(value: unknown, path: string): FieldComparisonSpec {
  if (!isObject(value)) throw badInput(path, 'must be an object { field, op, value }');
  unknownKeys(value, path, ['field', 'op', 'value']);
  const field = oneOf(value.field, `${path}.field`, [...FIELDS]) as FilterField;
  const op = oneOf(value.op, `${path}.op`, [...OPS]) as ComparisonOp;
  return { field, op, value: finite(value.value, `${path}.value`) };
}

function crossmatch(value: unknown, path: string): CrossmatchSpec {
  if (!isObject(value)) throw badInput(path, 'must be an object { catalog, type }');
  unknownKeys(value, path, ['catalog', 'type']);
  const spec: CrossmatchSpec = {};
  if (present(value.catalog)) spec.catalog = text(value.catalog, `${path}.catalog`);
  if (present(value.type)) spec.type = text(value.type, `${path}.type`);
  return spec;
}

/**
 * The validated, normalised filter. `path` is the argument's name as the client wrote it (`filter`); every
 * error names the offending value below it.
 */
export function validateFilter(input: unknown, path: string, limits: FilterLimits): AlertFilterSpec {
  let nodes = 0;
  let conditions = 0;
  const count = (n: number) => {
    conditions += n;
    if (conditions > MAX_FILTER_CONDITIONS) {
      throw badInput(
        path,
        `a filter has at most ${MAX_FILTER_CONDITIONS} conditions (comparisons, ranges and lists count 1, ` +
          `cones ${CONE_CONDITIONS})`,
      );
    }
  };
  const node = (value: unknown, at: string, depth: number): AlertFilterSpec => {
    if (!isObject(value)) throw badInput(at, 'must be a filter object');
    if (depth > MAX_FILTER_DEPTH) throw badInput(at, `filters nest at most ${MAX_FILTER_DEPTH} levels deep`);
    if (++nodes > MAX_FILTER_NODES) throw badInput(path, `a filter has at most ${MAX_FILTER_NODES} nodes`);
    const spec: AlertFilterSpec = {};
    for (const [key, raw] of Object.entries(value)) {
      if (!KEYS.has(key)) throw badInput(`${at}.${key}`, 'is not a filter key');
      if (!present(raw)) continue;
      const p = `${at}.${key}`;
      switch (key) {
        case 'and':
        case 'or':
          spec[key] = list(raw, p).map((child, i) => node(child, `${p}[${i}]`, depth + 1));
          break;
        case 'not':
          spec.not = node(raw, p, depth + 1);
          break;
        case 'compare':
          spec.compare = list(raw, p).map((item, i) => comparison(item, `${p}[${i}]`));
          count(spec.compare.length);
          break;
        case 'cone':
          spec.cone = cone(raw, p, limits);
          count(CONE_CONDITIONS);
          break;
        case 'band':
          spec.band = list(raw, p).map((item, i) => oneOf(item, `${p}[${i}]`, FILTER_BANDS));
          break;
        case 'survey':
          spec.survey = list(raw, p).map((item, i) => oneOf(item, `${p}[${i}]`, FILTER_SURVEYS));
          break;
        case 'label':
          spec.label = list(raw, p).map((item, i) => {
            const label = text(item, `${p}[${i}]`);
            if (limits.classes !== undefined && !limits.classes.includes(label)) {
              throw badInput(`${p}[${i}]`, unknownClassReason(label, limits.classes));
            }
            return label;
          });
          break;
        case 'roid':
          spec.roid = list(raw, p).map((item, i) => {
            if (typeof item !== 'number' || !ROID_VALUES.includes(item)) {
              throw badInput(`${p}[${i}]`, 'must be 0, 1, 2 or 3');
            }
            return item;
          });
          break;
        case 'mag':
        case 'rate':
        case 'sinceFirstDetectionDays':
          spec[key] = range(raw, p);
          break;
        case 'crossmatch':
          spec.crossmatch = crossmatch(raw, p);
          break;
        case 'watchlist': {
          const id = text(raw, p);
          if (id.length === 0) throw badInput(p, 'must not be empty');
          spec.watchlist = id;
          break;
        }
        case 'rising':
          if (typeof raw !== 'boolean') throw badInput(p, 'must be a boolean');
          spec.rising = raw;
          break;
      }
      if (key !== 'and' && key !== 'or' && key !== 'not' && key !== 'compare' && key !== 'cone') count(1);
    }
    return spec;
  };
  return node(input, path, 1);
}
