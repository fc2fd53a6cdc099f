import { describe, expect, it } from 'vitest';
import { identifier, join, sql, SqlBindError, type SqlValue } from '../../src/storage/sql.ts';

describe('sql', () => {
  it.each<[string, SqlValue, string]>([
    ['a plain string', 'ZTF21abcdefg', "'ZTF21abcdefg'"],
    ['quotes and backslashes', "it's a \\ test", "'it\\'s a \\\\ test'"],
    ['control characters', 'a\nb\tc\0d\re', "'a\\nb\\tc\\0d\\re'"],
    ['unicode', 'Ωμέγα ☄️', "'Ωμέγα ☄️'"],
    ['an integer', 42, '42'],
    ['a negative number, parenthesised', -1.5, '(-1.5)'],
    ['negative zero', -0, '0'],
    ['an integral float beyond 2^53, in exponent form', 1.2e19, '1.2e+19'],
    ['a subnormal, as its bytes', 5e-324, "reinterpretAsFloat64(unhex('0100000000000000'))"],
    ['a bigint above 2^53', 1234567890123456789n, '1234567890123456789'],
    ['a negative bigint', -9223372036854775808n, '(-9223372036854775808)'],
    ['true', true, '1'],
    ['null', null, 'NULL'],
    ['a date, as epoch seconds', new Date('2023-10-01T00:00:00.900Z'), 'toDateTime(1696118400)'],
    ['bytes', new Uint8Array([0, 39, 255]), "'\\x00\\x27\\xff'"],
    ['an array', ['a', 1, 2n], "['a', 1, 2]"],
    ['an empty array', [], '[]'],
  ])('binds %s', (_, value, expected) => {
    expect(sql`SELECT ${value}`.text).toBe(`SELECT ${expected}`);
  });

  it('keeps `x - ${-1}` from becoming a comment', () => {
    expect(sql`SELECT 1 -${-1}`.text).toBe('SELECT 1 -(-1)');
  });

  it('inlines nested fragments and joins them', () => {
    const conditions = [sql`a = ${1}`, sql`b = ${'x'}`];
    expect(sql`SELECT * FROM t WHERE ${join(conditions, ' AND ')}`.text).toBe(
      "SELECT * FROM t WHERE a = 1 AND b = 'x'",
    );
  });

  it.each<[string, SqlValue, RegExp]>([
    ['NaN', Number.NaN, /non-finite/],
    ['Infinity', Number.POSITIVE_INFINITY, /non-finite/],
    ['a bigint beyond UInt64', 2n ** 64n, /outside/],
    ['a bigint below Int64', -(2n ** 63n) - 1n, /outside/],
    ['an invalid date', new Date('not a date'), /invalid Date/],
    ['a lone surrogate', 'a\uD800b', /surrogate/],
  ])('refuses %s', (_, value, message) => {
    expect(() => sql`SELECT ${value}`).toThrow(message);
  });

  it('refuses a value that is neither a literal nor a fragment', () => {
    expect(() => sql`SELECT ${{ toString: () => '1; DROP TABLE t' } as unknown as SqlValue}`).toThrow(
      SqlBindError,
    );
  });

  it('accepts identifiers only from the whitelist', () => {
    expect(identifier('magpsf', ['magpsf', 'ra']).text).toBe('`magpsf`');
    expect(identifier('fink.alerts', ['fink.alerts']).text).toBe('`fink`.`alerts`');
    expect(() => identifier('dec', ['magpsf', 'ra'])).toThrow(/not one of/);
    expect(() => identifier('a`b', ['a`b'])).toThrow(/plain name/);
  });
});
