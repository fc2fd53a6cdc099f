// raw2science under faults, run as real processes (`fink run raw2science`, as `fink start` runs it): killed with
// SIGKILL mid-replay, ClickHouse gone for 30 s, two workers sharing a group, SIGTERM with a batch gathered.
// Each case has its own database, topics and consumer group, and checks the exact set of stored alerts against
// what was published (decoded here, the quality cuts applied: rb >= 0.55 and nbad == 0).
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AssignerProtocol, type Admin, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticAlerts } from '../../datasim/synthetic.ts';
import { loadCatalogFile } from '../../src/cli/catalog-command.ts';
import { groupAlive } from '../../src/cli/supervisor.ts';
import type { Config } from '../../src/config.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { connectClickHouse, queryRows, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { sql } from '../../src/storage/sql.ts';
import { createCliSandbox, type CliSandbox } from '../helpers/cli.ts';
import { createMigratedDatabase } from '../helpers/clickhouse.ts';
import { testConfig, uniqueName } from '../helpers/context.ts';
import { connectedProducer, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { readAll } from '../helpers/pipeline.ts';
import {
  committedOffsets,
  endOffsets,
  killServiceProcesses,
  startServiceProcess,
  type LogLine,
  type ServiceProcess,
} from '../helpers/processes.ts';
import { sharedPath, ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

const kafka = testKafka();
let admin: Admin;
let producer: Producer;
/** Undone after each test, last first: databases dropped, servers stopped. */
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  producer = await connectedProducer(kafka);
});

afterEach(async () => {
  await killServiceProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
});

/** The config a raw2science process of one test runs with: its own database, topics and group. */
function serviceConfig(
  database: string,
  topic: string,
  pipeline: Record<string, unknown>,
  clickhouse: Record<string, unknown> = {},
): Config {
  return testConfig({
    clickhouse: { database, ...clickhouse },
    pipeline: {
      topics: [topic],
      fromBeginning: true,
      scienceTopic: uniqueName('faults_science'),
      deadLetterTopic: uniqueName('faults_dead'),
      distributionPrefix: uniqueName('faults'),
      groupPrefix: uniqueName('faults'),
      metricsPort: 0,
      ...pipeline,
    },
    log: { level: 'info' },
  });
}

function groupOf(config: Config): string {
  return `${config.pipeline.groupPrefix}-raw2science`;
}

const decoder = createZtfDecoder();

/** Fink's quality cuts for ZTF, which decide what raw2science stores. */
function passesCuts(value: Buffer): boolean {
  const { rb, nbad } = decoder.decode(value).candidate;
  return rb !== null && rb >= 0.55 && nbad === 0;
}

/** The candids raw2science stores from these messages. */
function passingCandids(values: readonly Buffer[]): Set<string> {
  return new Set(values.filter(passesCuts).map((value) => decoder.decode(value).candid.toString()));
}

function syntheticAlerts(seed: number, count: number): Buffer[] {
  return [...generateSyntheticAlerts({ seed, count })].map((alert) => alert.bytes);
}

/** Publishes in order, 100 messages a request; `partition` pins message i to a partition. */
async function publish(topic: string, values: readonly Buffer[], partition?: (i: number) => number) {
  for (let start = 0; start < values.length; start += 100) {
    await producer.send({
      topic,
      acks: -1,
      messages: values
        .slice(start, start + 100)
        .map((value, i) => ({ value, partition: partition?.(start + i) })),
    });
  }
}

interface StoredRow {
  id: string;
  partition: number;
  offset: string;
}

/** The visible alerts rows, with the Kafka position of the message each came from. */
function storedRows(client: ClickHouseClient): Promise<StoredRow[]> {
  return queryRows<StoredRow>(
    client,
    sql`SELECT toString(alert_id) AS id, partition, toString(offset) AS offset FROM alerts FINAL`,
  );
}

async function visibleCount(client: ClickHouseClient): Promise<number> {
  const [row] = await queryRows<{ n: string }>(client, sql`SELECT count() AS n FROM alerts FINAL`);
  return Number(row?.n);
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** Messages below the committed offsets of a fresh topic (-1: nothing committed in that partition). */
const messagesCommitted = (offsets: readonly number[]): number =>
  sum(offsets.map((offset) => Math.max(0, offset)));

/** Messages a process handed to storage, from its per-batch log lines. */
function received(worker: ServiceProcess): number {
  return sum(worker.logged('batch processed').map((line) => Number(line.received)));
}

/** Waits until the group committed every message of `topic` (commits follow the acknowledged writes). */
async function waitAllCommitted(worker: ServiceProcess, groupId: string, topic: string): Promise<void> {
  const end = await endOffsets(admin, topic);
  await worker.waitUntil(
    async () => JSON.stringify(await committedOffsets(admin, groupId, topic)) === JSON.stringify(end),
    180_000,
    `committing every offset (${end.join(', ')})`,
  );
}

/**
 * The alerts of `final` whose message lies below the committed offset of its partition but that `stored` (the
 * rows visible when `committed` was read) lacks: offsets committed ahead of their write. Empty when correct.
 */
function uncoveredCommits(
  committed: readonly number[],
  final: StoredRow[],
  stored: StoredRow[],
): StoredRow[] {
  const present = new Set(stored.map((row) => row.id));
  return final.filter((row) => Number(row.offset) < (committed[row.partition] ?? -1) && !present.has(row.id));
}

describe('raw2science killed with SIGKILL mid-replay, then restarted', () => {
  it('loses no alert, shows none twice, and resumes from the committed offsets', async () => {
    const db = await createMigratedDatabase('faults_kill');
    cleanups.push(() => db.drop());
    const topic = await createTestTopic(kafka, 'faults_kill', 2);
    const config = serviceConfig(db.config.database, topic, { batchMaxMessages: 50, batchMaxAgeMs: 200 });
    const groupId = groupOf(config);

    const published: Buffer[] = [];
    let seed = 1;
    const publishMore = async (): Promise<void> => {
      const values = syntheticAlerts(seed++, 2_000);
      published.push(...values);
      await publish(topic, values);
    };
    await publishMore();

    // Kill right after a commit, once a few batches are committed: had the commit gone out before its write, the
    // write would still be in flight. Should everything be stored by then (a very fast machine), publish more and
    // kill again: the kill must land mid-stream.
    let worker = startServiceProcess('raw2science', config);
    let committedAtKill: number[] = [];
    let atKill: StoredRow[] = [];
    for (let attempt = 1; ; attempt++) {
      await worker.waitReady(120_000);
      const before = messagesCommitted(committedAtKill);
      await worker.waitUntil(
        async () => messagesCommitted(await committedOffsets(admin, groupId, topic)) >= before + 150,
        60_000,
        'committing',
        20,
      );
      await worker.kill();
      committedAtKill = await committedOffsets(admin, groupId, topic);
      atKill = await storedRows(db.client);
      if (atKill.length < passingCandids(published).size) break;
      expect(attempt, 'the kill never landed mid-stream').toBeLessThan(3);
      await publishMore();
      worker = startServiceProcess('raw2science', config);
    }
    const expected = passingCandids(published);

    // The killed member keeps its partitions until its session expires: the restart waits for that.
    const restarted = startServiceProcess('raw2science', config);
    await restarted.waitReady(120_000);
    await waitAllCommitted(restarted, groupId, topic);

    const final = await storedRows(db.client);
    expect(atKill.length).toBeGreaterThan(0);
    expect(atKill.length).toBeLessThan(expected.size);
    expect(new Set(final.map((row) => row.id))).toEqual(expected);
    expect(await visibleCount(db.client)).toBe(expected.size);
    // Nothing committed before its write was acknowledged...
    expect(uncoveredCommits(committedAtKill, final, atKill)).toEqual([]);
    // ...and the restart read exactly what was not committed: every message once, none skipped.
    const resumedFrom = messagesCommitted(committedAtKill);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThan(published.length);
    expect(received(restarted)).toBe(published.length - resumedFrom);
    expect(restarted.running).toBe(true);
  }, 300_000);
});

describe('ClickHouse down for 30 s mid-replay', () => {
  const OUTAGE_MS = 30_000;
  let sandbox: CliSandbox | undefined;

  afterAll(async () => {
    if (sandbox === undefined) return;
    const pid = clickhousePid(sandbox);
    await sandbox.fink('stop', 'all');
    if (pid !== undefined) expect(groupAlive(pid)).toBe(false);
    rmSync(sandbox.stateDir, { recursive: true, force: true });
  });

  function clickhousePid(box: CliSandbox): number | undefined {
    try {
      const record = readFileSync(path.join(box.stateDir, 'run', 'clickhouse.json'), 'utf8');
      return (JSON.parse(record) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  }

  it('keeps raw2science waiting without committing, then stores every alert exactly once', async () => {
    // A ClickHouse of this test alone: the shared one serves the other test files meanwhile.
    sandbox = await createCliSandbox();
    sandbox.env.FINK_CLICKHOUSE__MODE = 'local';
    const box = sandbox;
    const start = await box.fink('start', 'clickhouse');
    expect(start.code, start.stderr).toBe(0);

    const topic = await createTestTopic(kafka, 'faults_outage', 2);
    const config = serviceConfig(
      uniqueName('faults_outage'),
      topic,
      { batchMaxMessages: 50, batchMaxAgeMs: 200 },
      { mode: 'local', httpPort: box.ports.clickhouseHttp, tcpPort: box.ports.clickhouseTcp },
    );
    const groupId = groupOf(config);
    await migrate(config.clickhouse, MIGRATIONS_DIR);
    // A loaded catalog makes every batch read ClickHouse (the cross-match) before it writes.
    await loadCatalogFile(config, {
      name: '3hsp',
      file: sharedPath('catalogs', '3hsp.csv'),
      ra: 'R.A.',
      dec: 'Dec',
      radiusArcsec: 60,
      idColumn: '3HSP Source name',
      typeColumn: null,
      extraColumns: [],
      overriding: false,
    });
    const client = connectClickHouse(config.clickhouse);
    cleanups.push(() => client.close());

    const published = syntheticAlerts(2, 1_500);
    const expected = passingCandids(published);
    await publish(topic, published);
    const worker = startServiceProcess('raw2science', config);
    await worker.waitReady();
    await worker.waitUntil(
      async () => messagesCommitted(await committedOffsets(admin, groupId, topic)) >= 100,
      60_000,
      'committing',
    );

    // kill -9: the outage lands between two batches or in the middle of one, never after a clean goodbye.
    const pid = clickhousePid(box);
    if (pid === undefined) throw new Error(`no pid record for the ClickHouse of ${box.stateDir}`);
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => !groupAlive(pid), 10_000);
    const downSince = Date.now();

    // Once the batch in hand fails, nothing can commit until it is written: the flushes are serialised.
    const isClickHouseRetry = (line: LogLine): boolean => line.target === 'clickhouse';
    await worker.waitUntil(
      () => worker.logged('write failed; retrying').some(isClickHouseRetry),
      OUTAGE_MS,
      'retrying the write',
    );
    const committed = await committedOffsets(admin, groupId, topic);
    const end = await endOffsets(admin, topic);
    expect(messagesCommitted(committed)).toBeLessThan(sum(end));
    // The outage must last: raw2science keeps running and commits nothing while ClickHouse is gone.
    while (Date.now() - downSince < OUTAGE_MS) {
      expect(worker.running, worker.tail()).toBe(true);
      expect(await committedOffsets(admin, groupId, topic)).toEqual(committed);
      await delay(1_000);
    }

    const restart = await box.fink('start', 'clickhouse');
    expect(restart.code, restart.stderr).toBe(0);
    const afterOutage = await storedRows(client);
    expect(afterOutage.length).toBeGreaterThan(0);
    await waitAllCommitted(worker, groupId, topic);

    const final = await storedRows(client);
    expect(new Set(final.map((row) => row.id))).toEqual(expected);
    expect(await visibleCount(client)).toBe(expected.size);
    expect(uncoveredCommits(committed, final, afterOutage)).toEqual([]);
    expect(worker.logged('write failed; retrying').filter(isClickHouseRetry).length).toBeGreaterThan(1);
    expect(worker.running).toBe(true);
  }, 300_000);
});

describe('two raw2science workers in one consumer group', () => {
  it('split the partitions and store every alert once', async () => {
    const db = await createMigratedDatabase('faults_group');
    cleanups.push(() => db.drop());
    const topic = await createTestTopic(kafka, 'faults_group', 2);
    const config = serviceConfig(db.config.database, topic, { batchMaxMessages: 50, batchMaxAgeMs: 200 });
    const groupId = groupOf(config);

    const first = startServiceProcess('raw2science', config);
    await first.waitReady();
    const second = startServiceProcess('raw2science', config);
    await second.waitReady();
    // The first worker gives up a partition at its next heartbeat; then each holds one.
    let members: { memberId: string; partitions: number[] }[] = [];
    await waitFor(async () => {
      members = await groupMembers(admin, groupId, topic);
      return members.length === 2 && members.every((member) => member.partitions.length === 1);
    }, 60_000);

    const published = readAll(ztfAlertFiles());
    const expected = passingCandids(published);
    await publish(topic, published, (i) => i % 2);
    await waitAllCommitted(first, groupId, topic);

    expect(members.flatMap((member) => member.partitions).sort()).toEqual([0, 1]);
    const final = await storedRows(db.client);
    expect(new Set(final.map((row) => row.id))).toEqual(expected);
    expect(await visibleCount(db.client)).toBe(expected.size);
    // Both worked, and no message went to both.
    expect(received(first)).toBeGreaterThan(0);
    expect(received(second)).toBeGreaterThan(0);
    expect(received(first) + received(second)).toBe(published.length);
    expect(new Set(final.map((row) => row.partition))).toEqual(new Set([0, 1]));
    expect([first.running, second.running]).toEqual([true, true]);
  });
});

describe('raw2science on SIGTERM', () => {
  it('writes and commits the batch it gathered, then exits with code 0', async () => {
    const db = await createMigratedDatabase('faults_term');
    cleanups.push(() => db.drop());
    const topic = await createTestTopic(kafka, 'faults_term', 1);
    // Batches of 10, and an age no test waits for: 10 messages are written at once, the rest wait.
    const config = serviceConfig(db.config.database, topic, { batchMaxMessages: 10, batchMaxAgeMs: 600_000 });
    const groupId = groupOf(config);
    const worker = startServiceProcess('raw2science', config);
    await worker.waitReady();

    // 17 real alerts that all pass the cuts, in one request (one record batch): the consumer fetches them
    // together, writes the first 10 at once and keeps 7 for a batch that is not due.
    const published = readAll(ztfAlertFiles()).filter(passesCuts).slice(0, 17);
    expect(passingCandids(published).size).toBe(17);
    await producer.send({ topic, acks: -1, messages: published.map((value) => ({ value })) });
    await worker.waitUntil(
      async () => (await committedOffsets(admin, groupId, topic))[0] === 10,
      60_000,
      'committing the first batch',
    );
    expect(await visibleCount(db.client)).toBe(10);

    worker.signal('SIGTERM');
    expect(await worker.exited(config.services.stopTimeoutMs)).toBe(0);
    expect(await committedOffsets(admin, groupId, topic)).toEqual([17]);
    const final = await storedRows(db.client);
    expect(new Set(final.map((row) => row.id))).toEqual(passingCandids(published));
    expect(worker.logged('batch processed').map((line) => line.received)).toEqual([10, 7]);
  });
});

/** The group's members and the partitions of `topic` each holds, from the group coordinator. */
async function groupMembers(
  kafkaAdmin: Admin,
  groupId: string,
  topic: string,
): Promise<{ memberId: string; partitions: number[] }[]> {
  const { groups } = await kafkaAdmin.describeGroups([groupId]);
  const group = groups[0];
  if (group?.state !== 'Stable') return [];
  return group.members.map((member) => ({
    memberId: member.memberId,
    partitions: AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic] ?? [],
  }));
}
