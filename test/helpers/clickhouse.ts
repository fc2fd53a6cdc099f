// A fresh database per test on the ClickHouse the test command started, dropped afterwards.
import type { ClickHouseConfig } from '../../src/config.ts';
import { connectClickHouse, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { createDatabase, dropDatabase, migrate } from '../../src/storage/migrations.ts';
import { testConfig, uniqueName } from './context.ts';

export interface TestDatabase {
  config: ClickHouseConfig;
  client: ClickHouseClient;
  drop(): Promise<void>;
}

/** `clickhouse` overrides the test config's section (the cluster tests point it at the local cluster). */
export async function createTestDatabase(
  prefix = 'test',
  clickhouse: Record<string, unknown> = {},
): Promise<TestDatabase> {
  const base = testConfig({ clickhouse }).clickhouse;
  const config = { ...base, database: uniqueName(prefix) };
  // On every node in cluster mode.
  await createDatabase(config);
  // A connection per request: a test process also runs services whose CPU-bound batches block the event loop for
  // seconds, long enough for a pooled connection to outlive the server's keep-alive before the client drops it.
  const client = connectClickHouse(config, { keepAlive: false });
  return {
    config,
    client,
    drop: async () => {
      await client.close();
      await dropDatabase(config);
    },
  };
}

/** A fresh database with every project migration applied. */
export async function createMigratedDatabase(
  prefix = 'test',
  clickhouse: Record<string, unknown> = {},
): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix, clickhouse);
  await migrate(db.config, MIGRATIONS_DIR);
  return db;
}
