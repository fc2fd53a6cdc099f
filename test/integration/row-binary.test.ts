import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, runCommand } from '../../src/storage/clickhouse.ts';
import { insertRows, type TableSpec } from '../../src/storage/row-binary.ts';
import { sql } from '../../src/storage/sql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

interface Row {
  s: string;
  b: Buffer;
  u8: number;
  u32: number;
  u64: bigint;
  f32: number;
  f64: number;
  d: Date;
  t: Date;
  n: number | null;
}

const SPEC: TableSpec<Row> = {
  table: 'everything',
  columns: [
    { name: 's', type: 'String' },
    { name: 'b', type: 'String' },
    { name: 'u8', type: 'UInt8' },
    { name: 'u32', type: 'UInt32' },
    { name: 'u64', type: 'UInt64' },
    { name: 'f32', type: 'Float32' },
    { name: 'f64', type: 'Float64' },
    { name: 'd', type: 'Date' },
    { name: 't', type: 'DateTime' },
    { name: 'n', type: 'Nullable(Float64)' },
  ],
};

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
        d: new Date('2023-10-17T00:00:00Z'),
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
        d: new Date('1970-01-02T00:00:00Z'),
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
  });
});
