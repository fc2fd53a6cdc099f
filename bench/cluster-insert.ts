// Cluster mode: inserting through the Distributed tables (insert_distributed_sync=1, what the services do) or
// straight into each shard's local tables (what a client that shards by itself would do), on the local cluster
// (`fink start cluster -c conf/cluster.yaml`, left running). The rows are those raw2science writes for the 611
// real ZTF alerts and the 25 Rubin alerts, made once on the test ClickHouse by the pipeline, then inserted
// ROUNDS times each way, alternately, into two fresh cluster databases (replays: ReplacingMergeTree keeps one).
//
//   FINK_SHARED_DIR=../shared node --import tsx bench/cluster-insert.ts
//
// Prints alerts/s (the batch of 636 alerts' rows: raw_alerts, then lightcurve, crossmatches and
// classifications together, then alerts and objects, as the services write them) and the CPU seconds of the
// four ClickHouse nodes per 1,000 alerts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readRubinParquet, rubinMessages } from '../datasim/rubin.ts';
import {
  CLICKHOUSE_CLUSTER_SERVICES,
  clusterNodes,
  nodeClickHouseConfig,
} from '../src/cli/local-clickhouse-cluster.ts';
import { Supervisor } from '../src/cli/supervisor.ts';
import { loadConfig } from '../src/config.ts';
import { loadRubinSchema, rubinSchemaId } from '../src/pipeline/decode/rubin-avro.ts';
import { PROJECT_ROOT } from '../src/project.ts';
import { connectClickHouse, queryRows } from '../src/storage/clickhouse.ts';
import { RAW_ALERTS } from '../src/storage/raw-store.ts';
import { insertRows, queryRowBinary } from '../src/storage/row-binary.ts';
import { ALERTS, CLASSIFICATIONS, CROSSMATCHES, LIGHTCURVE, OBJECTS } from '../src/storage/science-store.ts';
import { identifier, sql } from '../src/storage/sql.ts';
import type { Table } from '../src/storage/table.ts';
import { createMigratedDatabase } from '../test/helpers/clickhouse.ts';
import { createPipelineSandbox, readAll } from '../test/helpers/pipeline.ts';
import { sharedPath, ztfAlertFiles } from '../test/helpers/shared-data.ts';
import { waitFor } from '../test/helpers/wait.ts';

const ROUNDS = 5;
const cluster = loadConfig({
  file: path.join(PROJECT_ROOT, 'conf', 'cluster.yaml'),
  cwd: PROJECT_ROOT,
  env: {},
});
const ON_CLUSTER = {
  mode: 'external',
  url: cluster.clickhouse.url,
  urls: cluster.clickhouse.urls,
  cluster: 'fink',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of several tables, each its own type
type AnyTable = Table<any>;
const FIRST: AnyTable[] = [RAW_ALERTS];
const MIDDLE: AnyTable[] = [LIGHTCURVE, CROSSMATCHES, CLASSIFICATIONS];
const LAST: AnyTable[] = [ALERTS, OBJECTS];

// 1. The rows, as the pipeline writes them, on the test server.
const source = await createPipelineSandbox('chbench_src');
const schema = loadRubinSchema(sharedPath('datasim', 'lsst', 'schema', '10', '0'));
const rubin = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), {
  schema,
});
const payloads = [
  ...readAll(ztfAlertFiles()),
  ...rubinMessages(rubin, rubinSchemaId(schema.version), schema),
];
await source.loadDemoCatalogs();
await source.start('stream2raw');
await source.start('raw2science');
await source.publish(payloads);
let alerts = 0;
await waitFor(async () => {
  const [row] = await queryRows<{ raw: string; stored: string }>(
    source.db.client,
    sql`SELECT (SELECT count() FROM raw_alerts FINAL) AS raw, (SELECT count() FROM alerts FINAL) AS stored`,
  );
  alerts = Number(row?.raw);
  return alerts === 633 && Number(row?.stored) > 0;
}, 600_000);
// Let the last science batch land.
await new Promise((resolve) => setTimeout(resolve, 5_000));
const rows = new Map<AnyTable, unknown[]>();
for (const table of [...FIRST, ...MIDDLE, ...LAST]) {
  const fields = table.columns.map((c) => c.field);
  rows.set(
    table,
    await queryRowBinary(
      source.db.client,
      table,
      fields,
      sql`SELECT ${table.select()} FROM ${identifier(table.name, [table.name])} FINAL`,
    ),
  );
}
await source.stop();
console.log(`rows: ${[...rows].map(([t, r]) => `${t.name} ${r.length}`).join(', ')}`);

// 2. Two fresh cluster databases.
const viaDistributed = await createMigratedDatabase('chbench_dist', ON_CLUSTER);
const viaShards = await createMigratedDatabase('chbench_direct', ON_CLUSTER);
const nodes = clusterNodes(cluster.clickhouse);
const shardClients = [nodes[0]!, nodes[2]!].map((node) =>
  connectClickHouse(
    { ...nodeClickHouseConfig(cluster.clickhouse, node), cluster: undefined },
    { database: viaShards.config.database },
  ),
);

async function writeAll(write: (table: AnyTable, rows: unknown[]) => Promise<void>): Promise<void> {
  for (const table of FIRST) await write(table, rows.get(table)!);
  await Promise.all(MIDDLE.map((table) => write(table, rows.get(table)!)));
  for (const table of LAST) await write(table, rows.get(table)!);
}

/** FNV-1a of the object id: any hash spreads the rows; which shard gets an object does not change the cost. */
function shardOf(objectId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < objectId.length; i++) hash = Math.imul(hash ^ objectId.charCodeAt(i), 0x01000193) >>> 0;
  return hash % 2;
}

const ways: Record<string, () => Promise<void>> = {
  distributed: () => writeAll((table, list) => insertRows(viaDistributed.client, table, list)),
  'straight to shards': () =>
    writeAll(async (table, list) => {
      const local = { ...table, name: `${table.name}_local` };
      await Promise.all(
        shardClients.map((client, shard) =>
          insertRows(
            client,
            local,
            list.filter((row) => shardOf((row as { objectId: string }).objectId) === shard),
          ),
        ),
      );
    }),
};

const supervisor = new Supervisor(cluster.stateDir);
const clickhouseCpu = (): number =>
  CLICKHOUSE_CLUSTER_SERVICES.filter((s) => s.name !== 'zookeeper')
    .map((s) => supervisor.status(s.name))
    .reduce((sum, status) => {
      if (status.state !== 'running') return sum;
      const stat = readFileSync(`/proc/${status.record.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / 100;
    }, 0);

const results = new Map<string, { seconds: number[]; cpu: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, write] of Object.entries(ways)) {
    const cpuBefore = clickhouseCpu();
    const started = performance.now();
    await write();
    const seconds = (performance.now() - started) / 1000;
    const result = results.get(name) ?? { seconds: [], cpu: [] };
    result.seconds.push(seconds);
    result.cpu.push(clickhouseCpu() - cpuBefore);
    results.set(name, result);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, { seconds, cpu }] of results) {
  console.log(
    `| insert ${name} | ${alerts} alerts' rows x ${ROUNDS}: median ${median(seconds).toFixed(2)} s = ` +
      `${(alerts / median(seconds)).toFixed(0)} alerts/s (runs ${seconds.map((s) => s.toFixed(2)).join(', ')}), ` +
      `ClickHouse CPU ${((median(cpu) / alerts) * 1000).toFixed(2)} s per 1,000 alerts |`,
  );
}
await Promise.all(shardClients.map((client) => client.close()));
await viaDistributed.drop();
await viaShards.drop();
