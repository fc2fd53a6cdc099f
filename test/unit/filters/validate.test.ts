import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FilterError, validateFilter } from '../../../src/filters/validate.ts';
import { filterArg } from '../../../src/resolvers/arguments.ts';

const LIMITS = { maxConeRadiusArcsec: 3600 };

/** What the API answers for a refused filter (FilterError mapped by filterArg). */
function errorOf(input: unknown): { argument: unknown; message: string } {
  try {
    filterArg(input, 'filter', LIMITS);
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    const error = err as GraphQLError;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    return { argument: error.extensions.argument, message: error.message };
  }
  throw new Error('the filter was accepted');
}

function nested(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { survey: ['ztf'] };
  for (let i = 1; i < depth; i++) node = { not: node };
  return node;
}

describe('validateFilter', () => {
  it('refuses with a FilterError of its own layer, naming the path, not a GraphQL error', () => {
    let error: unknown;
    try {
      validateFilter({ and: [{}, { mag: { min: NaN } }] }, 'filter', LIMITS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FilterError);
    expect(error).not.toBeInstanceOf(GraphQLError);
    expect(error).toMatchObject({ path: 'filter.and[1].mag.min', reason: 'must be finite' });
  });
});

describe('validateFilter refuses, naming the path', () => {
  it.each([
    ['NaN', { and: [{}, { mag: { min: NaN } }] }, 'filter.and[1].mag.min', 'must be finite'],
    [
      'Infinity',
      { compare: [{ field: 'MAG', op: 'LT', value: Infinity }] },
      'filter.compare[0].value',
      'finite',
    ],
    ['min > max', { or: [{ rate: { min: 2, max: 1 } }] }, 'filter.or[0].rate.min', 'greater than max'],
    ['empty range', { mag: {} }, 'filter.mag', 'needs min or max'],
    ['unknown band', { band: ['r', 'q'] }, 'filter.band[1]', "unknown value 'q'"],
    ['unknown survey', { not: { survey: ['gaia'] } }, 'filter.not.survey[0]', "unknown value 'gaia'"],
    [
      'unknown field',
      { compare: [{ field: 'FLUX', op: 'LT', value: 1 }] },
      'filter.compare[0].field',
      'FLUX',
    ],
    ['unknown op', { compare: [{ field: 'MAG', op: 'LIKE', value: 1 }] }, 'filter.compare[0].op', 'LIKE'],
    ['radius 0', { cone: { ra: 1, dec: 1, radiusArcsec: 0 } }, 'filter.cone.radiusArcsec', '> 0'],
    ['radius too large', { cone: { ra: 1, dec: 1, radiusArcsec: 3601 } }, 'filter.cone.radiusArcsec', '3600'],
    ['ra 360', { cone: { ra: 360, dec: 1, radiusArcsec: 1 } }, 'filter.cone.ra', '[0, 360)'],
    ['dec 91', { cone: { ra: 0, dec: 91, radiusArcsec: 1 } }, 'filter.cone.dec', '[-90, 90]'],
    ['roid 4', { roid: [4] }, 'filter.roid[0]', '0, 1, 2 or 3'],
    ['empty list', { label: [] }, 'filter.label', 'must not be empty'],
    ['empty or', { or: [] }, 'filter.or', 'must not be empty'],
    ['unknown key', { and: [{ magnitude: 1 }] }, 'filter.and[0].magnitude', 'not a filter key'],
    ['not an object', { not: 3 }, 'filter.not', 'filter object'],
    ['too deep', nested(9), `filter${'.not'.repeat(8)}`, 'at most 8 levels'],
    [
      'too many nodes',
      { or: Array.from({ length: 3 }, () => ({ or: Array.from({ length: 70 }, () => ({})) })) },
      'filter',
      'at most 200 nodes',
    ],
    ['empty watchlist', { watchlist: '' }, 'filter.watchlist', 'must not be empty'],
    [
      'too many conditions',
      // 10 x 100 comparisons, and one cone (5 more).
      {
        cone: { ra: 1, dec: 1, radiusArcsec: 5 },
        and: Array.from({ length: 10 }, () => ({
          compare: Array.from({ length: 100 }, () => ({ field: 'MAG', op: 'LT', value: 18 })),
        })),
      },
      'filter',
      'at most 1000 conditions',
    ],
  ])('%s', (_name, input, argument, message) => {
    const error = errorOf(input);
    expect(error.argument).toBe(argument);
    expect(error.message).toContain(message);
    expect(error.message.startsWith(`${argument}: `)).toBe(true);
  });
});

describe('validateFilter accepts', () => {
  it('drops explicit nulls (GraphQL inputs) and keeps the rest', () => {
    expect(
      validateFilter(
        {
          survey: ['ztf'],
          band: null,
          mag: { min: 17, max: null },
          not: null,
          crossmatch: { catalog: null },
        },
        'filter',
        LIMITS,
      ),
    ).toEqual({ survey: ['ztf'], mag: { min: 17 }, crossmatch: {} });
  });

  it('accepts depth 8 and 200 nodes', () => {
    expect(() => validateFilter(nested(8), 'filter', LIMITS)).not.toThrow();
    const wide = (n: number) => ({ or: Array.from({ length: n }, () => ({})) });
    // 1 root + 2 `or` nodes + 98 + 99 leaves = 200.
    expect(() => validateFilter({ and: [wide(98), wide(99)] }, 'filter', LIMITS)).not.toThrow();
    expect(() => validateFilter({ and: [wide(99), wide(99)] }, 'filter', LIMITS)).toThrow(/200 nodes/);
  });

  it('accepts 1,000 conditions', () => {
    const compare = Array.from({ length: 100 }, () => ({ field: 'MAG', op: 'LT', value: 18 }));
    const filter = { and: Array.from({ length: 9 }, () => ({ compare })), label: ['a'], band: ['g'] };
    // 900 comparisons, 2 lists, and 98 ranges of 1 each.
    const more = { or: Array.from({ length: 98 }, () => ({ mag: { max: 20 } })) };
    expect(() => validateFilter({ ...filter, and: [...filter.and, more] }, 'filter', LIMITS)).not.toThrow();
  });

  it('round-trips its own output through JSON', () => {
    const spec = validateFilter(
      {
        or: [{ cone: { ra: 10, dec: -5, radiusArcsec: 30 }, rising: false }, { watchlist: 'w' }],
        compare: [{ field: 'PEAK_MAG', op: 'LTE', value: 19.5 }],
      },
      'filter',
      LIMITS,
    );
    expect(validateFilter(JSON.parse(JSON.stringify(spec)), 'filter', LIMITS)).toEqual(spec);
  });
});
