// The binder against the real server: whatever a value holds, `SELECT <bound value>` gives it back exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, runCommand } from '../../src/storage/clickhouse.ts';
import { join, sql } from '../../src/storage/sql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('fuzz');
});
afterAll(async () => {
  await db.drop();
});

/** A small seeded PRNG so a failure can be replayed from the seed printed in the test name. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = [
  "'",
  '\\',
  '\0',
  '\n',
  '\r',
  '\t',
  '"',
  '`',
  ';',
  '--',
  '/*',
  '*/',
  '\\x27',
  '\u2028',
  '\x7f',
  '\x1b',
];

function randomString(random: () => number): string {
  const length = Math.floor(random() * 40);
  let out = '';
  for (let i = 0; i < length; i++) {
    const pick = random();
    if (pick < 0.35) out += TRICKY[Math.floor(random() * TRICKY.length)];
    else if (pick < 0.6) out += String.fromCharCode(32 + Math.floor(random() * 95));
    else if (pick < 0.75) out += String.fromCharCode(Math.floor(random() * 32));
    else if (pick < 0.9) out += String.fromCodePoint(0xa0 + Math.floor(random() * 0xd000));
    else out += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
  }
  return out;
}

const SEED = 20261124;

describe(`sql binder fuzz (seed ${SEED})`, () => {
  it('round-trips 2,000 random strings exactly', async () => {
    const random = mulberry32(SEED);
    const values = Array.from({ length: 2000 }, () => randomString(random));
    // 100 values per query keeps each request small while exercising the server's parser 2,000 times.
    for (let start = 0; start < values.length; start += 100) {
      const batch = values.slice(start, start + 100);
      const rows = await queryRows<{ v: string[] }>(db.client, sql`SELECT ${batch} AS v`);
      expect(rows[0]?.v).toEqual(batch);
    }
  });

  it('round-trips numbers and 64-bit integers exactly', async () => {
    const random = mulberry32(SEED + 1);
    const floats = Array.from({ length: 500 }, () => (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
    floats.push(
      0,
      -0,
      1,
      -1,
      2 ** 53 - 1,
      1.2e19,
      5e-324,
      -2.5e-310,
      2.2250738585072014e-308,
      Number.MAX_VALUE,
    );
    // A tuple, not an array: each value keeps the type the server reads it as (an array needs one supertype).
    const elements = join(
      floats.map((value) => sql`${value}`),
      ', ',
    );
    const rows = await queryRows<{ v: (number | string)[] }>(db.client, sql`SELECT tuple(${elements}) AS v`);
    // 64-bit integers come back quoted in JSON; compare as numbers.
    expect(rows[0]?.v.map(Number)).toEqual(floats.map((value) => (Object.is(value, -0) ? 0 : value)));

    const bigints = Array.from(
      { length: 200 },
      () => BigInt(Math.floor(random() * 2 ** 31)) * 2n ** 32n + 12345n,
    );
    bigints.push(18446744073709551615n, 9007199254740993n);
    const big = await queryRows<{ v: string[] }>(db.client, sql`SELECT ${bigints} AS v`);
    expect(big[0]?.v.map(BigInt)).toEqual(bigints);
  });

  it('round-trips arbitrary bytes', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const rows = await queryRows<{ h: string }>(db.client, sql`SELECT hex(${bytes}) AS h`);
    expect(rows[0]?.h).toBe(Buffer.from(bytes).toString('hex').toUpperCase());
  });

  it('keeps an injection attempt a literal: the table survives and the string is stored as typed', async () => {
    await runCommand(db.client, sql`CREATE TABLE victims (name String) ENGINE = MergeTree ORDER BY name`);
    const attack = "x'); DROP TABLE victims; --";
    await runCommand(db.client, sql`INSERT INTO victims (name) VALUES (${attack})`);
    const attack2 = "' OR 1=1 --";
    const matched = await queryRows<{ name: string }>(
      db.client,
      sql`SELECT name FROM victims WHERE name = ${attack2}`,
    );
    expect(matched).toEqual([]);
    const rows = await queryRows<{ name: string }>(db.client, sql`SELECT name FROM victims`);
    expect(rows).toEqual([{ name: attack }]);
  });
});
