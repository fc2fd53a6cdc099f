import { appendFileSync, cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { queryRows, runCommand, StorageError } from '../../src/storage/clickhouse.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { sql } from '../../src/storage/sql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/clickhouse.ts';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase('ch');
});
afterEach(async () => {
  await db.drop();
});

describe('ClickHouse through the client', () => {
  it('round-trips rows with 64-bit ids exact', async () => {
    await runCommand(db.client, sql`CREATE TABLE t (id UInt64, name String) ENGINE = MergeTree ORDER BY id`);
    const ids = [1n, 2n ** 53n + 1n, 18446744073709551615n];
    for (const id of ids)
      await runCommand(db.client, sql`INSERT INTO t (id, name) VALUES (${id}, ${`n${id}`})`);
    const rows = await queryRows<{ id: string; name: string }>(
      db.client,
      sql`SELECT id, name FROM t ORDER BY id`,
    );
    expect(rows.map((row) => BigInt(row.id))).toEqual(ids);
    expect(rows.map((row) => row.name)).toEqual(ids.map((id) => `n${id}`));
  });

  it('reports a refused query as a StorageError', async () => {
    await expect(queryRows(db.client, sql`SELECT * FROM no_such_table`)).rejects.toBeInstanceOf(StorageError);
  });
});

describe('migrations', () => {
  it('applies every project migration once; a second run applies nothing and changes nothing', async () => {
    const first = await migrate(db.config, MIGRATIONS_DIR);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.skipped).toEqual([]);
    const tablesAfterFirst = await queryRows<{ name: string }>(
      db.client,
      sql`SELECT name FROM system.tables WHERE database = ${db.config.database} ORDER BY name`,
    );
    expect(tablesAfterFirst.map((t) => t.name)).toContain('raw_alerts');

    const second = await migrate(db.config, MIGRATIONS_DIR);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(first.applied);
    const recorded = await queryRows<{ n: string }>(
      db.client,
      sql`SELECT count() AS n FROM schema_migrations`,
    );
    expect(Number(recorded[0]?.n)).toBe(first.applied.length);
    const tablesAfterSecond = await queryRows<{ name: string }>(
      db.client,
      sql`SELECT name FROM system.tables WHERE database = ${db.config.database} ORDER BY name`,
    );
    expect(tablesAfterSecond).toEqual(tablesAfterFirst);
  });

  it('refuses to run when an applied migration changed, before applying anything new', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fink-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(db.config, dir);
    const [firstFile] = readdirSync(dir).sort();
    appendFileSync(path.join(dir, firstFile!), '\n-- edited after it was applied\n');
    const added = path.join(dir, '9999_added_later.sql');
    appendFileSync(added, 'CREATE TABLE added_later (x UInt8) ENGINE = Memory;\n');

    await expect(migrate(db.config, dir)).rejects.toThrow(
      new RegExp(`${firstFile} was applied and has changed`),
    );
    const tables = await queryRows<{ name: string }>(
      db.client,
      sql`SELECT name FROM system.tables WHERE database = ${db.config.database} AND name = 'added_later'`,
    );
    expect(tables).toEqual([]);
  });
});
