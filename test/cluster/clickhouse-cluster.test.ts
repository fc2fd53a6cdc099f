// ClickHouse cluster mode against a real local cluster (ZooKeeper + 2 shards x 2 replicas of clickhouse-server,
// conf/cluster.yaml; started here when not running, stopped at the end if started here): the 611 real ZTF
// alerts and the 25 Rubin alerts through stream2raw and raw2science give exactly the rows of a single server;
// a replica killed with SIGKILL mid-replay does not stop ingestion nor queries, and catches up once restarted.
// Kafka is the test broker (testConfig), the single server the test ClickHouse.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRubinParquet, rubinMessages } from '../../datasim/rubin.ts';
import { startService, stopService } from '../../src/cli/lifecycle.ts';
import {
  CLICKHOUSE_CLUSTER_SERVICES,
  clusterNodes,
  nodeClickHouseConfig,
} from '../../src/cli/local-clickhouse-cluster.ts';
import { Supervisor } from '../../src/cli/supervisor.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { loadRubinSchema, rubinSchemaId } from '../../src/pipeline/decode/rubin-avro.ts';
import { rubinQualityFailure } from '../../src/pipeline/steps/quality.step.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { ClickHouseAlertStore, type AlertStore } from '../../src/storage/alert-store.ts';
import { connectClickHouse, queryRows, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { Sql, sql } from '../../src/storage/sql.ts';
import { testKafka } from '../helpers/kafka.ts';
import { createPipelineSandbox, readAll, type PipelineSandbox } from '../helpers/pipeline.ts';
import { sharedPath, ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

/** The cluster's own config: its state dir and ports, whatever the environment says of the single server's. */
const cluster: Config = loadConfig({
  file: path.join(PROJECT_ROOT, 'conf', 'cluster.yaml'),
  cwd: PROJECT_ROOT,
  env: {},
  overrides: { log: { level: 'silent' } },
});
/** What the pipeline sandboxes take to use the cluster instead of the test server. */
const ON_CLUSTER = {
  mode: 'external',
  url: cluster.clickhouse.url,
  urls: cluster.clickhouse.urls,
  cluster: cluster.clickhouse.cluster,
};
const started: string[] = [];

let ztfPayloads: Buffer[];
let rubinPayloads: Buffer[];
/** Alerts archived (distinct ids) and stored (passing the cuts), ZTF and Rubin together. */
let archivedCount: number;
let storedCount: number;
/** The single server's rows, per table and object (from the first test, compared in both). */
let reference: Map<string, Map<string, string>>;

beforeAll(async () => {
  for (const { name } of CLICKHOUSE_CLUSTER_SERVICES) {
    if ((await startService(name, cluster, () => undefined)) === 'started') started.push(name);
  }
  ztfPayloads = readAll(ztfAlertFiles());
  const decoder = createZtfDecoder();
  const ztfIds = new Set<string>();
  const ztfPassing = new Set<string>();
  for (const payload of ztfPayloads) {
    const alert = decoder.decode(payload);
    ztfIds.add(alert.candid.toString());
    const { rb, nbad, fid } = alert.candidate;
    if (rb !== null && rb >= 0.55 && nbad === 0 && fid !== 3) ztfPassing.add(alert.candid.toString());
  }
  const schema = loadRubinSchema(sharedPath('datasim', 'lsst', 'schema', '10', '0'));
  const rubin = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), {
    schema,
  });
  rubinPayloads = rubinMessages(rubin, rubinSchemaId(schema.version), schema);
  archivedCount = ztfIds.size + rubin.length;
  storedCount = ztfPassing.size + rubin.filter((a) => rubinQualityFailure(a.diaSource) === null).length;
}, 600_000);

afterAll(async () => {
  for (const name of started.reverse()) await stopService(name, cluster, () => undefined);
});

/**
 * What each table holds, per object: its rows (the columns that do not depend on when or from which Kafka
 * offset they were written), sorted, hashed. FINAL: the rows a reader sees.
 */
const CONTENT: Record<string, string> = {
  // Not the bytes: three ZTF alerts come twice upstream, and which copy a replay keeps (ReplacingMergeTree on the
  // time received, to the second) depends on timing; `payloadsArePublished` checks the bytes.
  raw_alerts: 'survey, toString(alert_id) AS alert_id, problem',
  alerts:
    'survey, toString(alert_id) AS alert_id, jd, night, ra, dec, toString(hpx) AS hpx, band, mag, mag_err, roid, ' +
    'ss_name, class, ndet, nlim, first_jd, last_jd, peak_mag, color_gr, rate, rising, features, candidate',
  // The points, not their values: lightcurve is a ReplacingMergeTree without a version, and a point comes in the
  // history of every later alert of its object, not always with the same values (older schemas, upper limits
  // later detected): which copy a reader sees is the last inserted, which depends on the order the Kafka
  // partitions were consumed in, on a single server as on the cluster.
  lightcurve: 'jd, band',
  // The version, not the row: some objects have two alerts at the same time (version = its jd in ms), and of
  // equal versions the last inserted wins, which depends on the order of consumption on a single server as on
  // the cluster. `objectsAreLatestAlerts` checks that the row is one of the object's latest alerts.
  objects: 'survey, toString(version) AS version',
  crossmatches: '*',
  classifications:
    'toString(alert_id) AS alert_id, jd, classifier, version, label, score, model_file, model_sha256',
  alerts_by_hpx: 'toString(alert_id) AS alert_id, toString(hpx) AS hpx, class',
  alerts_by_class: 'toString(alert_id) AS alert_id, class, jd',
  alerts_by_night: 'toString(alert_id) AS alert_id, night, class',
  alerts_by_id: 'toString(alert_id) AS alert_id, survey',
};

async function contents(client: ClickHouseClient): Promise<Map<string, Map<string, string>>> {
  const tables = new Map<string, Map<string, string>>();
  for (const [table, columns] of Object.entries(CONTENT)) {
    // Table and column lists are constants of this file.
    const rows = await queryRows<Record<string, unknown>>(
      client,
      Sql.trusted(`SELECT object_id AS _object, ${columns} FROM ${table} FINAL`),
    );
    const byObject = new Map<string, Record<string, unknown>[]>();
    for (const { _object, ...row } of rows) {
      const list = byObject.get(String(_object)) ?? [];
      list.push(row);
      byObject.set(String(_object), list);
    }
    // Per object and column (a difference names both): its values in the order of the object's sorted rows.
    const digests = new Map<string, string>();
    for (const [object, list] of byObject) {
      const sorted = list
        .map((row) => [JSON.stringify(row), row] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1));
      for (const column of Object.keys(list[0]!)) {
        const values = JSON.stringify(sorted.map(([, row]) => row[column]));
        digests.set(
          `${object} ${column}`,
          `${list.length}:${createHash('sha256').update(values).digest('hex').slice(0, 16)}`,
        );
      }
    }
    tables.set(table, digests);
  }
  return tables;
}

/** Every archived payload is, byte for byte, one of the messages published. */
async function payloadsArePublished(client: ClickHouseClient): Promise<void> {
  const published = new Set(
    [...ztfPayloads, ...rubinPayloads].map((payload) => createHash('sha256').update(payload).digest('hex')),
  );
  const stored = await queryRows<{ hash: string }>(
    client,
    sql`SELECT lower(hex(SHA256(payload))) AS hash FROM raw_alerts FINAL`,
  );
  expect(stored).toHaveLength(archivedCount);
  expect(stored.filter(({ hash }) => !published.has(hash))).toEqual([]);
}

/** Every object's row comes from one of its latest alerts (the highest jd; ties broken by arrival). */
async function objectsAreLatestAlerts(client: ClickHouseClient): Promise<void> {
  const [row] = await queryRows<{ objects: string; stray: string }>(
    client,
    sql`SELECT count() AS objects,
               countIf((object_id, last_alert_id) NOT IN (
                 SELECT object_id, alert_id FROM alerts FINAL
                 WHERE (object_id, jd) IN (SELECT object_id, max(jd) FROM alerts FINAL GROUP BY object_id))) AS stray
        FROM objects FINAL`,
  );
  expect(Number(row?.objects)).toBeGreaterThan(0);
  expect(row?.stray).toBe('0');
}

/** The objects of the reference (its keys are `<object> <column>`). */
function objectsOf(contents: Map<string, Map<string, string>>): string[] {
  return [...new Set([...contents.get('alerts')!.keys()].map((key) => key.split(' ')[0]!))];
}

async function counts(client: ClickHouseClient): Promise<{ archived: number; stored: number }> {
  const [row] = await queryRows<{ archived: string; stored: string }>(
    client,
    sql`SELECT (SELECT count() FROM raw_alerts FINAL) AS archived, (SELECT count() FROM alerts FINAL) AS stored`,
  );
  return { archived: Number(row?.archived), stored: Number(row?.stored) };
}

async function replay(sandbox: PipelineSandbox): Promise<void> {
  await sandbox.loadDemoCatalogs();
  await sandbox.start('stream2raw');
  await sandbox.start('raw2science');
}

/**
 * Until stream2raw and raw2science committed every message of the sandbox's topic: they commit a batch only
 * once its writes are acknowledged (in cluster mode, on their shards), so its rows are all there.
 */
async function consumedAll(sandbox: PipelineSandbox): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await waitFor(async () => {
      const end = await admin.fetchTopicOffsets(sandbox.upstream);
      const total = end.reduce((n, p) => n + Number(p.high), 0);
      for (const service of ['stream2raw', 'raw2science']) {
        const [group] = await admin.fetchOffsets({
          groupId: `${sandbox.config.pipeline.groupPrefix}-${service}`,
          topics: [sandbox.upstream],
        });
        const done = (group?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        if (done < total) return false;
      }
      return true;
    }, 300_000);
  } finally {
    await admin.disconnect();
  }
}

/** The store answers the API gives, minus the times of writing; sorted, so that shard order does not count. */
async function storeAnswers(
  store: AlertStore,
  objectIds: string[],
  alertIds: bigint[],
): Promise<Record<string, string[]>> {
  const strip = (rows: readonly object[]): string[] =>
    rows
      .map((row) =>
        JSON.stringify(row, (key, value: unknown) =>
          ['processedAt', 'updatedAt'].includes(key)
            ? undefined
            : typeof value === 'bigint'
              ? String(value)
              : value,
        ),
      )
      .sort();
  const [first] = await store.alertsByIds(alertIds.slice(0, 1));
  return {
    alerts: strip(await store.alertsByIds(alertIds)),
    byObject: strip(await store.alertsByObjectIds(objectIds)),
    // Which of two alerts at the same time an object's row comes from depends on arrival (see CONTENT).
    objects: strip(
      (await store.objectsByIds(objectIds)).map(({ objectId, lastJd }) => ({ objectId, lastJd })),
    ),
    // The points, not which copy of a point is seen (see CONTENT).
    lightCurves: strip(
      (await store.lightCurvesByObjectIds(objectIds)).map(({ objectId, jd, band }) => ({
        objectId,
        jd,
        band,
      })),
    ),
    classifications: strip(await store.classificationsByObjectIds(objectIds)),
    crossmatches: strip(await store.crossmatchesByObjectIds(objectIds)),
    // IN subqueries on Distributed tables (objects, crossmatches) inside queries on Distributed tables.
    cone: strip(
      await store.cone({ ra: first!.ra, dec: first!.dec, radiusArcsec: 3600, firstJdMin: 0, limit: 500 }),
    ),
    crossmatched: strip(await store.search({ crossmatch: {} }, null, 1000)),
    classCounts: strip(await store.classCounts()),
  };
}

describe('ClickHouse cluster mode (2 shards x 2 replicas)', () => {
  it('gives exactly the rows and answers of a single server for the 611 ZTF and 25 Rubin alerts', async () => {
    const single = await createPipelineSandbox('chc_single');
    const sharded = await createPipelineSandbox('chc_cluster', {}, ON_CLUSTER);
    try {
      // One after the other: two catalog loads at once keep this process's event loop busy for seconds.
      await replay(single);
      await replay(sharded);
      await Promise.all([
        single.publish([...ztfPayloads, ...rubinPayloads]),
        sharded.publish([...ztfPayloads, ...rubinPayloads]),
      ]);
      await Promise.all([consumedAll(single), consumedAll(sharded)]);
      for (const sandbox of [single, sharded]) {
        expect(await counts(sandbox.db.client)).toEqual({ archived: archivedCount, stored: storedCount });
      }
      reference = await contents(single.db.client);
      const rows = await contents(sharded.db.client);
      await payloadsArePublished(sharded.db.client);
      await objectsAreLatestAlerts(sharded.db.client);
      for (const [table, digests] of reference) {
        expect(digests.size, table).toBeGreaterThan(0);
        expect(rows.get(table), table).toEqual(digests);
      }
      // The rows are spread over both shards, every object whole on one.
      const perShard = await Promise.all(
        [0, 2].map(async (index) => {
          const node = connectClickHouse(
            {
              ...nodeClickHouseConfig(cluster.clickhouse, clusterNodes(cluster.clickhouse)[index]!),
              cluster: undefined,
            },
            { database: sharded.db.config.database },
          );
          try {
            return await queryRows<{ object_id: string }>(
              node,
              sql`SELECT DISTINCT object_id FROM alerts_local`,
            );
          } finally {
            await node.close();
          }
        }),
      );
      expect(perShard[0]!.length).toBeGreaterThan(0);
      expect(perShard[1]!.length).toBeGreaterThan(0);
      const shard1 = new Set(perShard[0]!.map((r) => r.object_id));
      expect(perShard[1]!.filter((r) => shard1.has(r.object_id))).toEqual([]);

      const objectIds = objectsOf(reference);
      const alertIds = (
        await queryRows<{ id: string }>(
          single.db.client,
          sql`SELECT toString(alert_id) AS id FROM alerts FINAL`,
        )
      ).map((r) => BigInt(r.id));
      const expected = await storeAnswers(new ClickHouseAlertStore(single.db.client), objectIds, alertIds);
      const answers = await storeAnswers(new ClickHouseAlertStore(sharded.db.client), objectIds, alertIds);
      // Per answer, what one has and the other has not (a whole-object diff of thousands of rows shows nothing).
      for (const [name, rows] of Object.entries(expected)) {
        expect(rows.length, name).toBeGreaterThan(0);
        const got = new Set(answers[name]);
        const want = new Set(rows);
        expect(
          {
            missing: rows.filter((row) => !got.has(row)),
            extra: answers[name]!.filter((row) => !want.has(row)),
          },
          name,
        ).toEqual({ missing: [], extra: [] });
        expect(answers[name], name).toHaveLength(rows.length);
      }
    } finally {
      await Promise.all([single.stop(), sharded.stop()]);
    }
  });

  it('goes on ingesting and answering while a replica is killed (SIGKILL), which catches up once restarted', async () => {
    expect(reference).toBeDefined();
    const sandbox = await createPipelineSandbox('chc_kill', {}, ON_CLUSTER);
    const victim = 'clickhouse-s1r1';
    const [s1r1, s1r2] = clusterNodes(cluster.clickhouse);
    try {
      await replay(sandbox);
      const all = [...ztfPayloads, ...rubinPayloads];
      const half = Math.floor(all.length / 2);
      await sandbox.publish(all.slice(0, half));
      await waitFor(async () => (await counts(sandbox.db.client)).stored > 50, 300_000);

      // Queries through the same failover client as the services, every 200 ms, from the kill to the end.
      const reader = connectClickHouse(sandbox.config.clickhouse);
      const store = new ClickHouseAlertStore(reader);
      const objectIds = objectsOf(reference).slice(0, 50);
      let answered = 0;
      const failures: string[] = [];
      let reading = true;
      const readLoop = (async () => {
        while (reading) {
          try {
            await store.objectsByIds(objectIds);
            await store.cone({ ra: 0, dec: 0, radiusArcsec: 10, limit: 10 });
            answered++;
          } catch (err) {
            failures.push((err as Error).message);
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();

      const record = new Supervisor(cluster.stateDir).status(victim);
      expect(record.state).toBe('running');
      if (record.state === 'running') process.kill(record.record.pid, 'SIGKILL');
      await sandbox.publish(all.slice(half));

      // Ingestion goes on: both services consume (and commit after writing) every message while it is down.
      await consumedAll(sandbox);
      expect(new Supervisor(cluster.stateDir).status(victim).state).not.toBe('running');
      const answeredWhileDown = answered;

      await startService(victim, cluster, () => undefined);
      // The restarted replica fetches what it missed: its local tables match its shard's other replica.
      const nodeClient = (node: typeof s1r1) =>
        connectClickHouse(
          { ...nodeClickHouseConfig(cluster.clickhouse, node!), cluster: undefined },
          { database: sandbox.db.config.database },
        );
      const [restarted, peer] = [nodeClient(s1r1), nodeClient(s1r2)];
      try {
        const localCounts = async (client: ClickHouseClient) =>
          JSON.stringify(
            await queryRows(
              client,
              sql`SELECT (SELECT count() FROM raw_alerts_local) AS raw, (SELECT count() FROM alerts_local) AS alerts,
                         (SELECT count() FROM lightcurve_local) AS lc, (SELECT count() FROM classifications_local) AS cl,
                         (SELECT count() FROM alerts_by_hpx_local) AS hpx`,
            ),
          );
        await waitFor(async () => {
          const [lag] = await queryRows<{ busy: string }>(
            restarted,
            sql`SELECT count() AS busy FROM system.replicas
                WHERE database = ${sandbox.db.config.database} AND (queue_size > 0 OR is_readonly OR absolute_delay > 0)`,
          );
          return lag?.busy === '0' && (await localCounts(restarted)) === (await localCounts(peer));
        }, 300_000);
      } finally {
        await Promise.all([restarted.close(), peer.close()]);
      }

      reading = false;
      await readLoop;
      await reader.close();
      expect(failures).toEqual([]);
      expect(answeredWhileDown).toBeGreaterThan(0);
      // Nothing lost, nothing twice: the very rows of the single server.
      expect(await counts(sandbox.db.client)).toEqual({ archived: archivedCount, stored: storedCount });
      const rows = await contents(sandbox.db.client);
      await payloadsArePublished(sandbox.db.client);
      await objectsAreLatestAlerts(sandbox.db.client);
      for (const [table, digests] of reference) expect(rows.get(table), table).toEqual(digests);
    } finally {
      await sandbox.stop();
    }
  });
});
