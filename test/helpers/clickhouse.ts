// A fresh database per test on the ClickHouse the test command started, dropped afterwards.
import type { ClickHouseConfig } from '../../src/config.ts';
import { connectClickHouse, runCommand, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { identifier, sql } from '../../src/storage/sql.ts';
import { testConfig, uniqueName } from './context.ts';

export interface TestDatabase {
  config: ClickHouseConfig;
  client: ClickHouseClient;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const base = testConfig().clickhouse;
  const config = { ...base, database: uniqueName(prefix) };
  const server = connectClickHouse(config, { database: null });
  const name = identifier(config.database, [config.database]);
  await runCommand(server, sql`CREATE DATABASE ${name}`);
  // A connection per request: a test process also runs services whose CPU-bound batches block the event loop for
  // seconds, long enough for a pooled connection to outlive the server's keep-alive before the client drops it.
  const client = connectClickHouse(config, { keepAlive: false });
  return {
    config,
    client,
    drop: async () => {
      await client.close();
      await runCommand(server, sql`DROP DATABASE IF EXISTS ${name}`);
      await server.close();
    },
  };
}

/** A fresh database with every project migration applied. */
export async function createMigratedDatabase(prefix = 'test'): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  await migrate(db.config, MIGRATIONS_DIR);
  return db;
}
