// The pipeline on the local 3-broker Kafka cluster (replication factor 3, min.insync.replicas 2, acks=all), with
// stream2raw and raw2science as real processes (`fink run`, as `fink start` runs them) and the brokers as real
// processes (`fink start kafka-<n>`). Each case has its own database, topics and consumer groups, and checks the
// exact set of stored alerts against the 611 real ZTF alerts (608 distinct candids: three are sent twice).
import { AssignerProtocol, Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/lifecycle.ts';
import { KAFKA_CLUSTER_SERVICES } from '../../src/cli/local-kafka-cluster.ts';
import { groupAlive, Supervisor } from '../../src/cli/supervisor.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { decodeScienceRecord } from '../../src/pipeline/encode/science-record.ts';
import { headerText } from '../../src/pipeline/sources/kafka-batch-source.ts';
import {
  createKafka,
  ensureTopics,
  PRODUCER_RETRY,
  retryKafka,
  sendInChunks,
} from '../../src/pipeline/kafka.ts';
import { queryRows, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig, uniqueName } from '../helpers/context.ts';
import { consumeMessages } from '../helpers/kafka.ts';
import { readAll } from '../helpers/pipeline.ts';
import {
  committedOffsets,
  endOffsets,
  killServiceProcesses,
  startServiceProcess,
  type ServiceProcess,
} from '../helpers/processes.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

/** The config the run was given: kafka.mode cluster (the three local brokers), the usual ClickHouse. */
const cluster = testConfig();
/** The single local broker of the integration tests, as the default config runs it. */
const SINGLE_BROKER = { mode: 'local', replicationFactor: 1, minInsyncReplicas: 1, defaultPartitions: 2 };
/** Upstream partitions on the cluster: two led by each broker, so that a broker's death moves some of each. */
const PARTITIONS = 6;

const logger = createLogger({ level: 'error' });
const published = readAll(ztfAlertFiles());
/** Distinct candids of the files, and those that pass Fink's quality cuts (what raw2science stores). */
const distinct = new Set<string>();
const passing = new Set<string>();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  const decoder = createZtfDecoder();
  for (const payload of published) {
    const { candid, candidate } = decoder.decode(payload);
    distinct.add(candid.toString());
    const { rb, nbad, fid } = candidate;
    if (rb !== null && rb >= 0.55 && nbad === 0 && fid !== 3) passing.add(candid.toString());
  }
});

afterEach(async () => {
  await killServiceProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  // A failed case may leave a broker down: the next run (and whoever shares the cluster) finds it up again.
  for (const { name } of KAFKA_CLUSTER_SERVICES) {
    if (new Supervisor(cluster.stateDir).status(name).state !== 'running') await startService(name, cluster);
  }
});

/** One pipeline on `kafka` overrides: its database, upstream topic, groups; Kafka clients and a producer. */
interface Pipeline {
  config: Config;
  db: TestDatabase;
  upstream: string;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
}

async function createPipeline(prefix: string, kafka: Record<string, unknown> = {}): Promise<Pipeline> {
  const db = await createMigratedDatabase(prefix);
  const upstream = uniqueName(`${prefix}_upstream`);
  const config = testConfig({
    kafka,
    clickhouse: { database: db.config.database },
    pipeline: {
      topics: [upstream],
      fromBeginning: true,
      scienceTopic: uniqueName(`${prefix}_science`),
      deadLetterTopic: uniqueName(`${prefix}_dead`),
      distributionPrefix: uniqueName(prefix),
      groupPrefix: uniqueName(prefix),
      batchMaxMessages: 100,
      batchMaxAgeMs: 300,
      metricsPort: 0,
    },
    server: { eventsTopic: uniqueName(`${prefix}_events`) },
    log: { level: 'info' },
  });
  const client = createKafka(config.kafka, logger, uniqueName(prefix));
  const partitions = config.kafka.mode === 'cluster' ? PARTITIONS : config.kafka.defaultPartitions;
  await ensureTopics(client, [upstream], partitions, config.kafka);
  const admin = client.admin();
  await admin.connect();
  // As every fink producer: no retry inside kafkajs (PRODUCER_RETRY); publish() retries whole requests.
  const producer = client.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: PRODUCER_RETRY,
  });
  await producer.connect();
  const pipeline = { config, db, upstream, kafka: client, admin, producer };
  cleanups.push(async () => {
    await producer.disconnect();
    // The single broker's topics too (the run's teardown cleans the cluster only).
    const { scienceTopic, deadLetterTopic } = config.pipeline;
    const mine = [upstream, scienceTopic, deadLetterTopic, config.server.eventsTopic];
    const topics = (await admin.listTopics()).filter((topic) => mine.includes(topic));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    await admin.disconnect();
    await db.drop();
  });
  return pipeline;
}

/**
 * Publishes as the simulator does: acks=all, requests of at most kafka.maxRequestBytes, each retried on its own
 * for as long as the brokers are away (a request whose acknowledgement was lost is sent again: a duplicate).
 */
async function publish(pipeline: Pipeline, values: readonly Buffer[]): Promise<void> {
  await sendInChunks(
    pipeline.producer,
    pipeline.upstream,
    values.map((value) => ({ value })),
    pipeline.config.kafka.maxRequestBytes,
    retryKafka(),
  );
}

function startWorkers(pipeline: Pipeline, ...services: string[]): ServiceProcess[] {
  return services.map((service) => startServiceProcess(service, pipeline.config));
}

const group = (pipeline: Pipeline, service: string) => `${pipeline.config.pipeline.groupPrefix}-${service}`;

/** Waits until each group committed every message of the upstream topic (commits follow acknowledged writes). */
async function waitAllCommitted(pipeline: Pipeline, workers: ServiceProcess[], services: string[]) {
  const end = JSON.stringify(await endOffsets(pipeline.admin, pipeline.upstream));
  await waitFor(async () => {
    for (const worker of workers) {
      if (!worker.running) throw new Error(`${worker.name} exited:\n${worker.tail()}`);
    }
    for (const service of services) {
      const committed = await committedOffsets(pipeline.admin, group(pipeline, service), pipeline.upstream);
      if (JSON.stringify(committed) !== end) return false;
    }
    return true;
  }, 300_000);
}

interface Counts {
  raw: number;
  rawIds: number;
  visible: number;
  visibleIds: number;
  physical: number;
}

/** Rows of the archive and of alerts: under FINAL (what readers see), distinct ids, and before any merge. */
async function counts(client: ClickHouseClient): Promise<Counts> {
  const [row] = await queryRows<Record<keyof Counts, string>>(
    client,
    sql`SELECT (SELECT count() FROM raw_alerts FINAL) AS raw,
               (SELECT uniqExact(alert_id) FROM raw_alerts) AS rawIds,
               (SELECT count() FROM alerts FINAL) AS visible,
               (SELECT uniqExact(alert_id) FROM alerts) AS visibleIds,
               (SELECT count() FROM alerts) AS physical`,
  );
  return {
    raw: Number(row?.raw),
    rawIds: Number(row?.rawIds),
    visible: Number(row?.visible),
    visibleIds: Number(row?.visibleIds),
    physical: Number(row?.physical),
  };
}

async function ids(client: ClickHouseClient, table: 'alerts' | 'raw_alerts'): Promise<Set<string>> {
  const rows = await queryRows<{ id: string }>(
    client,
    table === 'alerts'
      ? sql`SELECT toString(alert_id) AS id FROM alerts FINAL`
      : sql`SELECT toString(alert_id) AS id FROM raw_alerts FINAL`,
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * What the pipeline stored, table by table, as sorted rows of the columns that depend only on the alerts (not
 * on Kafka positions or processing times): two runs on the same alerts give equal snapshots.
 */
async function snapshot(client: ClickHouseClient): Promise<Record<string, string[]>> {
  const tables = {
    raw_alerts: sql`SELECT survey, toString(alert_id) AS id, object_id, jd, length(payload) AS bytes, problem
                    FROM raw_alerts FINAL`,
    alerts: sql`SELECT toString(alert_id) AS id, object_id, jd, band, mag, class, ndet, nlim, roid, ss_name,
                       features FROM alerts FINAL`,
    // The key only: some alerts carry two points of one exposure with different values (both kept upstream),
    // and which one a ReplacingMergeTree without version keeps depends on the order they were written in.
    lightcurve: sql`SELECT object_id, jd, band FROM lightcurve FINAL`,
    // The objects themselves: the state kept for one is its latest alert's, and two alerts of one object may
    // have the same time (jd), a tie the ReplacingMergeTree settles by write order.
    objects: sql`SELECT object_id, survey FROM objects FINAL`,
    classifications: sql`SELECT toString(alert_id) AS id, classifier, label, score FROM classifications FINAL`,
    crossmatches: sql`SELECT toString(alert_id) AS id, catalog, type FROM crossmatches FINAL`,
  };
  const result: Record<string, string[]> = {};
  for (const [table, query] of Object.entries(tables)) {
    const rows = await queryRows<Record<string, unknown>>(client, query);
    result[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return result;
}

/** Runs stream2raw and raw2science over the 611 alerts on `kafka` and returns what they stored. */
async function replayAll(prefix: string, kafka: Record<string, unknown> = {}) {
  const pipeline = await createPipeline(prefix, kafka);
  const services = ['stream2raw', 'raw2science'];
  const workers = startWorkers(pipeline, ...services);
  for (const worker of workers) await worker.waitReady();
  await publish(pipeline, published);
  await waitAllCommitted(pipeline, workers, services);
  return { pipeline, stored: await snapshot(pipeline.db.client), counts: await counts(pipeline.db.client) };
}

/** Partitions each broker leads among these topics' (from the cluster's metadata). */
async function leadersByBroker(admin: Admin, topics: string[]): Promise<Map<number, number>> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  const led = new Map<number, number>();
  for (const { partitions } of metadata) {
    for (const { leader } of partitions) led.set(leader, (led.get(leader) ?? 0) + 1);
  }
  return led;
}

/** True when every partition of these topics has all three replicas in sync. */
async function fullyInSync(admin: Admin, topics: string[]): Promise<boolean> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  return metadata.every(({ partitions }) => partitions.every(({ isr }) => isr.length === 3));
}

/** The process of cluster node `nodeId`, as `fink start` recorded it. */
function brokerPid(nodeId: number): number {
  const status = new Supervisor(cluster.stateDir).status(`kafka-${nodeId}`);
  if (status.state !== 'running') throw new Error(`kafka-${nodeId} is not running (${status.state})`);
  return status.record.pid;
}

describe('the 611 real ZTF alerts on the 3-broker cluster', () => {
  it('are stored exactly as on the single broker: every table, row for row', async () => {
    const onCluster = await replayAll('kc_same');
    const onSingle = await replayAll('kc_single', SINGLE_BROKER);
    expect(onCluster.pipeline.config.kafka.brokers).toHaveLength(3);
    expect(onSingle.pipeline.config.kafka.brokers).toHaveLength(1);
    const { topics } = await onCluster.pipeline.admin.fetchTopicMetadata({
      topics: [onCluster.pipeline.upstream, onCluster.pipeline.config.pipeline.scienceTopic],
    });
    for (const { partitions } of topics) {
      for (const { replicas } of partitions) expect(replicas).toHaveLength(3);
    }

    expect(onCluster.counts).toMatchObject({ raw: distinct.size, visible: passing.size });
    expect(await ids(onCluster.pipeline.db.client, 'raw_alerts')).toEqual(distinct);
    expect(await ids(onCluster.pipeline.db.client, 'alerts')).toEqual(passing);
    for (const table of Object.keys(onSingle.stored)) {
      expect(onCluster.stored[table]!.length, table).toBe(onSingle.stored[table]!.length);
      expect(onCluster.stored[table], table).toEqual(onSingle.stored[table]);
    }
    expect(onCluster.stored.lightcurve!.length).toBeGreaterThan(passing.size);
    expect(onCluster.stored.classifications!.length).toBeGreaterThan(passing.size);
  });
});

describe('a broker killed with SIGKILL mid-replay', () => {
  it('loses no alert and shows none twice; the restarted broker rejoins every partition', async () => {
    const pipeline = await createPipeline('kc_kill');
    const services = ['stream2raw', 'raw2science'];
    const workers = startWorkers(pipeline, ...services);
    for (const worker of workers) await worker.waitReady();
    const { scienceTopic } = pipeline.config.pipeline;
    const topics = [pipeline.upstream, scienceTopic, '__consumer_offsets'];

    const half = Math.floor(published.length / 2);
    await publish(pipeline, published.slice(0, half));
    // Mid-replay: raw2science has stored some of the first half, not all of it.
    await waitFor(async () => (await counts(pipeline.db.client)).visible > 0, 120_000, 100);
    // The harshest victim: the broker leading the most partitions (upstream, science, and the group offsets:
    // it is likely the coordinator of a consumer group too).
    const led = await leadersByBroker(pipeline.admin, topics);
    const [victim] = [...led].sort((a, b) => b[1] - a[1])[0]!;
    const pid = brokerPid(victim);
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => !groupAlive(pid), 10_000);
    const before = await counts(pipeline.db.client);
    expect(before.visible).toBeLessThan(passing.size);

    // Keep replaying with the broker gone: the other two hold every partition (2 in-sync replicas, acks=all).
    await publish(pipeline, published.slice(half));
    await waitAllCommitted(pipeline, workers, services);
    const after = await counts(pipeline.db.client);
    // Every acknowledged message is in the topic (more if a request was sent again), and each service read
    // them all.
    const inTopic = sum(await endOffsets(pipeline.admin, pipeline.upstream));
    expect(inTopic).toBeGreaterThanOrEqual(published.length);
    for (const worker of workers)
      expect(received(worker), worker.name).toBeGreaterThanOrEqual(published.length);
    expect(await ids(pipeline.db.client, 'raw_alerts')).toEqual(distinct);
    expect(await ids(pipeline.db.client, 'alerts')).toEqual(passing);
    // Visible means read with FINAL (ReplacingMergeTree keeps one row per key): exactly one row per alert. The
    // physical rows before a merge may hold a replayed alert twice (count() without FINAL); FINAL never does.
    expect(after).toMatchObject({ raw: distinct.size, visible: passing.size, visibleIds: passing.size });
    expect(after.physical).toBeGreaterThanOrEqual(passing.size);
    console.log(
      `kill -9 kafka-${victim} (leading ${led.get(victim)} of ${[...led.values()].reduce((a, b) => a + b)} ` +
        `partitions) with ${before.visible}/${passing.size} alerts stored: after the replay ` +
        `${after.visible} visible (FINAL), ${after.physical} physical rows in alerts, ${after.raw} archived`,
    );
    for (const worker of workers) expect(worker.running, worker.name).toBe(true);

    // The broker comes back, catches up, and is again an in-sync replica of every partition.
    expect(await startService(`kafka-${victim}`, cluster, () => undefined)).toBe('started');
    await waitFor(() => fullyInSync(pipeline.admin, topics), 120_000, 500);
    const { brokers } = await pipeline.admin.describeCluster();
    expect(brokers.map((broker) => broker.nodeId).sort()).toEqual([1, 2, 3]);
    expect(await counts(pipeline.db.client)).toMatchObject({ raw: distinct.size, visible: passing.size });
    // raw2science's own sends over the failover: the science topic has the record of every stored alert.
    // At least once: a batch replayed after the failover is published again, so read all there is.
    const onScience = sum(await endOffsets(pipeline.admin, scienceTopic));
    expect(onScience).toBeGreaterThanOrEqual(passing.size);
    const science = await consumeMessages(pipeline.kafka, scienceTopic, onScience);
    const onTopic = science.map(
      (message) => decodeScienceRecord(message.value!, headerText(message.headers)).alertId,
    );
    expect(new Set(onTopic.map(String))).toEqual(passing);
  });
});

describe('two raw2science workers in one consumer group on the cluster', () => {
  it('each own partitions, and every alert is stored exactly once', async () => {
    const pipeline = await createPipeline('kc_group');
    const groupId = group(pipeline, 'raw2science');
    const [first, second] = startWorkers(pipeline, 'raw2science', 'raw2science') as [
      ServiceProcess,
      ServiceProcess,
    ];
    await first.waitReady();
    await second.waitReady();
    let members: { memberId: string; partitions: number[] }[] = [];
    await waitFor(async () => {
      members = await groupMembers(pipeline.admin, groupId, pipeline.upstream);
      return members.length === 2 && members.every((member) => member.partitions.length > 0);
    }, 120_000);
    // Both hold some, none twice, all of them between the two.
    const assigned = members.flatMap((member) => member.partitions).sort((a, b) => a - b);
    expect(assigned).toEqual([...Array(PARTITIONS).keys()]);

    await publish(pipeline, published);
    await waitAllCommitted(pipeline, [first, second], ['raw2science']);
    expect(await ids(pipeline.db.client, 'alerts')).toEqual(passing);
    expect(await counts(pipeline.db.client)).toMatchObject({
      visible: passing.size,
      visibleIds: passing.size,
    });
    // Both worked, and no message went to both (the group was stable throughout).
    expect(received(first)).toBeGreaterThan(0);
    expect(received(second)).toBeGreaterThan(0);
    expect(received(first) + received(second)).toBe(published.length);
    expect(await groupMembers(pipeline.admin, groupId, pipeline.upstream)).toEqual(members);
  });
});

/** The group's members and the partitions of `topic` each holds, from the group coordinator. */
async function groupMembers(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<{ memberId: string; partitions: number[] }[]> {
  const { groups } = await admin.describeGroups([groupId]);
  const described = groups[0];
  if (described?.state !== 'Stable') return [];
  return described.members.map((member) => ({
    memberId: member.memberId,
    partitions: AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic] ?? [],
  }));
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** Messages a process handed to storage, from its per-batch log lines. */
function received(worker: ServiceProcess): number {
  if (worker.name === 'stream2raw') {
    return sum(
      worker.logged('batch archived').map((line) => Number(line.archived) + Number(line.deadLetters)),
    );
  }
  return sum(worker.logged('batch processed').map((line) => Number(line.received)));
}
