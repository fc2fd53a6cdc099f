import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, runCommand } from '../../src/storage/clickhouse.ts';
import { insertRows } from '../../src/storage/row-binary.ts';
import { sql } from '../../src/storage/sql.ts';
import { defineTable, type RowOfTable } from '../../src/storage/table.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

const SPEC = defineTable('everything', {
  s: 'String',
  b: 'Bytes',
  u8: 'UInt8',
  u32: 'UInt32',
  u64: 'UInt64',
  f32: 'Float32',
  f64: 'Float64',
  d: 'Date',
  t: 'DateTime',
  n: 'Nullable(Float64)',
});
type Row = RowOfTable<typeof SPEC>;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('rowbinary');
  await runCommand(
    db.client,
    sql`CREATE TABLE everything (s String, b String, u8 UInt8, u32 UInt32, u64 UInt64, f32 Float32, f64 Float64,
          d Date, t DateTime, n Nullable(Float64)) ENGINE = MergeTree ORDER BY u64`,
  );
});
afterAll(async () => {
  await db.drop();
});

describe('RowBinary inserts', () => {
  it('store every type exactly: binary bytes, 64-bit ids, nulls, dates', async () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const rows: Row[] = [
      {
        s: "Ωμέγα 'quoted' \\ \n",
        b: binary,
        u8: 255,
        u32: 4294967295,
        u64: 18446744073709551615n,
        f32: 0.5,
        f64: 2460236.0626233793,
        d: '2023-10-17',
        t: new Date('2023-10-17T04:05:06Z'),
        n: null,
      },
      {
        s: '',
        b: Buffer.alloc(0),
        u8: 0,
        u32: 0,
        u64: 2481242665515015008n,
        f32: -1.25,
        f64: -0,
        d: '1970-01-02',
        t: new Date('2000-01-01T00:00:00Z'),
        n: 19.5,
      },
    ];
    await insertRows(db.client, SPEC, rows);
    const back = await queryRows<Record<string, unknown>>(
      db.client,
      sql`SELECT s, hex(b) AS b, u8, u32, toString(u64) AS u64, f32, f64, toString(d) AS d, toUnixTimestamp(t) AS t, n
          FROM everything ORDER BY u8 DESC`,
    );
    expect(back).toEqual([
      {
        s: rows[0]!.s,
        b: binary.toString('hex').toUpperCase(),
        u8: 255,
        u32: 4294967295,
        u64: '18446744073709551615',
        f32: 0.5,
        f64: 2460236.0626233793,
        d: '2023-10-17',
        t: 1697515506,
        n: null,
      },
      {
        s: '',
        b: '',
        u8: 0,
        u32: 0,
        u64: '2481242665515015008',
        f32: -1.25,
        f64: -0,
        d: '1970-01-02',
        t: 946684800,
        n: 19.5,
      },
    ]);
    // Read back through the spec: the same values, in the same representation.
    const read = (
      await queryRows<Record<string, unknown>>(
        db.client,
        sql`SELECT ${SPEC.select()} FROM everything ORDER BY u8 DESC`,
      )
    ).map((json) => SPEC.readRow(json));
    expect(read).toEqual(rows);
  });
});
