// Applies migrations/NNNN_name.sql in order, once each, recording them in `schema_migrations`.
// A file that was applied and has changed since is refused: history is append-only, add a new file instead.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClickHouseConfig } from '../config.ts';
import {
  ClusterSchema,
  createDatabaseOnCluster,
  EACH_SHARD,
  schemaMigrationsTable,
  translateStatement,
  type ClusterTarget,
} from './cluster-ddl.ts';
import { connectClickHouse, queryRows, runCommand, type ClickHouseClient } from './clickhouse.ts';
import { identifier, sql, Sql } from './sql.ts';

export interface MigrationFile {
  name: string;
  checksum: string;
  statements: Sql[];
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^\d{4}_[a-z0-9_]+\.sql$/;

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    if (!FILE_PATTERN.test(name)) {
      throw new MigrationError(`migration file ${name} must be named NNNN_lowercase_name.sql`);
    }
    const text = await readFile(path.join(dir, name), 'utf8');
    files.push({
      name,
      checksum: createHash('sha256').update(text).digest('hex'),
      // Migration files are code from the repository, not user data: they are the one trusted SQL source.
      statements: splitStatements(text).map((statement) => Sql.trusted(statement)),
    });
  }
  return files;
}

/** Splits on `;` at the end of a line; `--` comment lines are dropped. Statements must not span a `;`+newline. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/**
 * The statements to run for each file: the file's own on a single server; in cluster mode
 * (clickhouse.cluster) their translation (src/storage/cluster-ddl.ts), which reads every file from the first
 * one, applied or not, to know each table's kind.
 */
export function statementsFor(files: readonly MigrationFile[], target: ClusterTarget | undefined): Sql[][] {
  if (target === undefined) return files.map((file) => file.statements);
  const schema = new ClusterSchema(target);
  return files.map((file) =>
    file.statements.flatMap((statement) =>
      translateStatement(statement.text, schema).map((text) => Sql.trusted(text)),
    ),
  );
}

function clusterTarget(config: ClickHouseConfig): ClusterTarget | undefined {
  return config.cluster === undefined ? undefined : { cluster: config.cluster, database: config.database };
}

/** CREATE DATABASE, on every node in cluster mode. The name is validated by the config schema. */
export async function createDatabase(config: ClickHouseConfig): Promise<void> {
  const target = clusterTarget(config);
  const server = connectClickHouse(config, { database: null });
  try {
    await runCommand(
      server,
      target === undefined
        ? sql`CREATE DATABASE IF NOT EXISTS ${identifier(config.database, [config.database])}`
        : Sql.trusted(createDatabaseOnCluster(target)),
    );
  } finally {
    await server.close();
  }
}

/** DROP DATABASE, on every node in cluster mode (replicated tables leave their replicas in ZooKeeper). */
export async function dropDatabase(config: ClickHouseConfig): Promise<void> {
  const name = identifier(config.database, [config.database]);
  const server = connectClickHouse(config, { database: null });
  try {
    await runCommand(
      server,
      config.cluster === undefined
        ? sql`DROP DATABASE IF EXISTS ${name}`
        : sql`DROP DATABASE IF EXISTS ${name} ON CLUSTER ${identifier(config.cluster, [config.cluster])}`,
    );
  } finally {
    await server.close();
  }
}

export async function migrate(config: ClickHouseConfig, dir: string): Promise<MigrationResult> {
  const files = await readMigrations(dir);
  const target = clusterTarget(config);
  // Translated before anything runs: a statement cluster mode cannot express stops here, not half-way.
  const statements = statementsFor(files, target);
  await createDatabase(config);

  const client = connectClickHouse(config);
  let shards: ClickHouseClient[] | undefined;
  try {
    // In cluster mode a replicated table on every node: applied once, seen by every node.
    const createLedger =
      target === undefined
        ? [
            sql`CREATE TABLE IF NOT EXISTS schema_migrations (
            name String, checksum String, applied_at DateTime
          ) ENGINE = MergeTree ORDER BY name`,
          ]
        : schemaMigrationsTable(new ClusterSchema(target)).map((text) => Sql.trusted(text));
    for (const statement of createLedger) await runCommand(client, statement);
    const rows = await queryRows<{ name: string; checksum: string }>(
      client,
      sql`SELECT name, any(checksum) AS checksum FROM schema_migrations GROUP BY name`,
    );
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));

    // Refuse before applying anything: a changed history means the database and the repository disagree.
    for (const file of files) {
      const previous = applied.get(file.name);
      if (previous !== undefined && previous !== file.checksum) {
        throw new MigrationError(
          `migration ${file.name} was applied and has changed since (checksum ${previous.slice(0, 12)} -> ` +
            `${file.checksum.slice(0, 12)}); restore it and add a new migration instead`,
        );
      }
    }

    const result: MigrationResult = { applied: [], skipped: [] };
    for (const [i, file] of files.entries()) {
      if (applied.has(file.name)) {
        result.skipped.push(file.name);
        continue;
      }
      for (const statement of statements[i]!) {
        if (!statement.text.startsWith(EACH_SHARD)) {
          await runCommand(client, statement);
          continue;
        }
        shards ??= await oneNodePerShard(config, client);
        for (const node of shards) await runCommand(node, statement);
      }
      await runCommand(
        client,
        sql`INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (${file.name}, ${file.checksum}, ${new Date()})`,
      );
      result.applied.push(file.name);
    }
    return result;
  } finally {
    await client.close();
    await Promise.all((shards ?? []).map((node) => node.close()));
  }
}

/**
 * A client of one node of each shard, for the statements that run once per shard: the nodes of url and urls,
 * by their {shard} macro. Every shard of the cluster must have one that answers.
 */
async function oneNodePerShard(
  config: ClickHouseConfig,
  client: ClickHouseClient,
): Promise<ClickHouseClient[]> {
  const cluster = config.cluster!;
  const [expected] = await queryRows<{ shards: string }>(
    client,
    sql`SELECT uniqExact(shard_num) AS shards FROM system.clusters WHERE cluster = ${cluster}`,
  );
  const byShard = new Map<string, ClickHouseClient>();
  for (const url of [config.url, ...config.urls]) {
    const node = connectClickHouse({ ...config, url, urls: [] }, { quiet: true });
    let shard: string | undefined;
    try {
      const [row] = await queryRows<{ shard: string }>(
        node,
        sql`SELECT substitution AS shard FROM system.macros WHERE macro = 'shard'`,
      );
      shard = row?.shard;
    } catch {
      // Down: another node of its shard will do.
    }
    if (shard === undefined || byShard.has(shard)) {
      await node.close();
      continue;
    }
    byShard.set(shard, node);
  }
  if (byShard.size !== Number(expected?.shards)) {
    await Promise.all([...byShard.values()].map((node) => node.close()));
    throw new MigrationError(
      `cluster ${cluster} has ${expected?.shards} shards but clickhouse.url and clickhouse.urls reach a node of ` +
        `${byShard.size} (shards ${[...byShard.keys()].join(', ') || 'none'}): ALTERs of sharded tables run on ` +
        `one node of each shard, list one of each in clickhouse.urls`,
    );
  }
  return [...byShard.values()];
}
