// The whole pipeline through a Kafka outage and then a ClickHouse outage, as real processes (`fink run <service>`,
// as `fink start` runs them) on a Kafka and a ClickHouse of this test alone (a CLI sandbox on its own ports: the
// shared servers serve the other test files meanwhile and are never stopped).
//
// The simulator replays synthetic alerts at a steady rate; stream2raw, raw2science, distribution, checkstream and
// the GraphQL server (its live feed) run. Mid-replay Kafka is stopped for 20 s (`fink stop kafka`), checkstream is
// started while it is away, then ClickHouse is stopped for 30 s. Afterwards: every service still runs, the very
// process started (the simulator finished its replay with exit code 0); every published alert is archived and
// every one passing the quality cuts is stored; no distribution topic holds more copies of an alert than the
// science topic does, and none misses an alert its filter selects; both servers stopped without SIGKILL. Last,
// with Kafka away again, SIGTERM stops every service within `fink stop`'s timeout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateSyntheticAlerts, writeSyntheticAlerts } from '../../datasim/synthetic.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { decodeDistributionMessage } from '../../src/pipeline/encode/distribution.ts';
import { decodeScienceRecord } from '../../src/pipeline/encode/science-record.ts';
import { headerText } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { BUILTIN_FILTERS, distributionTopic } from '../../src/pipeline/filters/builtin.ts';
import { createKafka } from '../../src/pipeline/kafka.ts';
import { MIGRATIONS_DIR } from '../../src/project.ts';
import { connectClickHouse, queryRows, type ClickHouseClient } from '../../src/storage/clickhouse.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { sql } from '../../src/storage/sql.ts';
import { createCliSandbox, type CliSandbox } from '../helpers/cli.ts';
import { freePort, testConfig, uniqueName } from '../helpers/context.ts';
import {
  committedOffsets,
  endOffsets,
  killServiceProcesses,
  startServiceProcess,
  type ServiceProcess,
} from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

/** Alerts replayed, and how fast: about 2 min of stream, so that both outages fall in the middle of it. */
const ALERTS = 1_500;
const RATE = 12;
const KAFKA_OUTAGE_MS = 20_000;
const CLICKHOUSE_OUTAGE_MS = 30_000;
const SEED = 20261202;

let box: CliSandbox;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  box = await createCliSandbox();
  box.env.FINK_CLICKHOUSE__MODE = 'local';
  box.env.FINK_KAFKA__MODE = 'local';
  for (const server of ['clickhouse', 'kafka']) {
    const started = await box.fink('start', server);
    expect(started.code, started.stderr).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await killServiceProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await box?.fink('stop', 'all');
  if (box !== undefined) rmSync(box.stateDir, { recursive: true, force: true });
}, 120_000);

const decoder = createZtfDecoder();

/** Fink's quality cuts for ZTF, which decide what raw2science stores. */
function passesCuts(value: Buffer): boolean {
  const { rb, nbad } = decoder.decode(value).candidate;
  return rb !== null && rb >= 0.55 && nbad === 0;
}

async function count(client: ClickHouseClient, table: 'raw_alerts' | 'alerts'): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    client,
    table === 'raw_alerts'
      ? sql`SELECT uniqExact(alert_id) AS n FROM raw_alerts`
      : sql`SELECT uniqExact(alert_id) AS n FROM alerts`,
  );
  return Number(row?.n);
}

/** Retries a read of the sandbox ClickHouse while it restarts. */
async function settled<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 60) throw err;
      await delay(1_000);
    }
  }
}

/** Every message of the topics, read by one consumer: per topic, alert id -> copies. */
async function copiesOn(
  kafka: Kafka,
  admin: Admin,
  topics: string[],
  scienceTopic: string,
): Promise<{ copies: Map<string, Map<string, number>>; selectedBy: Map<string, Set<string>> }> {
  const totals = new Map<string, number>();
  for (const topic of topics)
    totals.set(
      topic,
      (await endOffsets(admin, topic)).reduce((a, b) => a + b, 0),
    );
  const copies = new Map(topics.map((topic) => [topic, new Map<string, number>()]));
  /** Alert id -> the built-in filters that select it (from its record on the science topic). */
  const selectedBy = new Map<string, Set<string>>();
  let left = [...totals.values()].reduce((a, b) => a + b, 0);
  const consumer = kafka.consumer({ groupId: uniqueName('outage_reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, message }) => {
        const counts = copies.get(topic)!;
        if (topic === scienceTopic) {
          // The science topic carries each alert's record; the built-in filters read it.
          const record = decodeScienceRecord(message.value!, headerText(message.headers));
          const id = record.alertId.toString();
          counts.set(id, (counts.get(id) ?? 0) + 1);
          const filters = BUILTIN_FILTERS.filter((filter) => filter.matches(record));
          selectedBy.set(id, new Set(filters.map((filter) => filter.name)));
        } else {
          const id = String(decodeDistributionMessage(message.key!, message.value!).record.candid);
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        left--;
        return Promise.resolve();
      },
    });
    // Short of the deadline, the counts below say which topic came up short.
    await waitFor(() => left <= 0, 180_000, 100).catch(() => undefined);
  } finally {
    await consumer.disconnect();
  }
  for (const topic of topics) {
    const read = [...copies.get(topic)!.values()].reduce((a, b) => a + b, 0);
    expect(read, `messages read from ${topic}`).toBe(totals.get(topic));
  }
  return { copies, selectedBy };
}

describe('a Kafka outage, then a ClickHouse outage, under a running pipeline', () => {
  it('keeps every service running and loses or duplicates no alert', async () => {
    const alertDir = mkdtempSync(path.join(tmpdir(), 'fink-outage-alerts-'));
    cleanups.push(() => rmSync(alertDir, { recursive: true, force: true }));
    writeSyntheticAlerts(alertDir, { seed: SEED, count: ALERTS });
    const values = [...generateSyntheticAlerts({ seed: SEED, count: ALERTS })].map((alert) => alert.bytes);
    const allIds = new Set(values.map((value) => decoder.decode(value).candid.toString()));
    const passingIds = new Set(
      values.filter(passesCuts).map((value) => decoder.decode(value).candid.toString()),
    );
    expect(allIds.size).toBe(ALERTS);

    const upstream = uniqueName('outage_upstream');
    const config: Config = testConfig({
      kafka: { mode: 'local', port: box.ports.kafka, controllerPort: box.ports.kafkaController },
      clickhouse: {
        mode: 'local',
        httpPort: box.ports.clickhouseHttp,
        tcpPort: box.ports.clickhouseTcp,
        database: uniqueName('outages'),
      },
      pipeline: {
        topics: [upstream],
        fromBeginning: true,
        scienceTopic: uniqueName('outage_science'),
        deadLetterTopic: uniqueName('outage_dead'),
        distributionPrefix: uniqueName('outage'),
        groupPrefix: uniqueName('outage'),
        batchMaxMessages: 200,
        batchMaxAgeMs: 500,
        metricsPort: 0,
      },
      simulator: { dir: alertDir, topic: upstream, survey: 'ztf', rate: RATE, count: 0, loop: false },
      server: {
        port: await freePort(),
        eventsTopic: uniqueName('outage_events'),
        followupTopic: uniqueName('outage_followups'),
      },
      log: { level: 'info' },
    });
    await migrate(config.clickhouse, MIGRATIONS_DIR);
    const client = connectClickHouse(config.clickhouse);
    cleanups.push(() => client.close());
    const kafka = createKafka(config.kafka, createLogger({ level: 'silent' }), uniqueName('outage_test'));
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());

    const services: ServiceProcess[] = [];
    // The server last: its start creates topics without waiting out a broker that is busy creating others.
    for (const name of ['stream2raw', 'raw2science', 'distribution', 'server']) {
      const service = startServiceProcess(name, config);
      services.push(service);
      await service.waitReady(120_000);
    }
    // A live subscriber, through the whole run: the server's live feed must come back after the outage.
    const live: { alertId: string; at: number }[] = [];
    const ws = createClient({
      url: `ws://127.0.0.1:${config.server.port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    cleanups.push(() => ws.dispose());
    ws.subscribe<{ liveAlerts: { alert: { alertId: string } } }>(
      { query: 'subscription { liveAlerts { alert { alertId } } }' },
      {
        next: (result) => {
          const alertId = result.data?.liveAlerts.alert.alertId;
          if (alertId !== undefined) live.push({ alertId, at: Date.now() });
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    const simulator = startServiceProcess('simulator', config);
    await simulator.waitReady(60_000);
    const all = (): ServiceProcess[] => [...services, simulator];
    const expectAllRunning = (processes: ServiceProcess[]) => {
      for (const service of processes)
        expect(service.running, `${service.name}\n${service.tail()}`).toBe(true);
    };

    // Mid-replay: some alerts stored, most still to come.
    const startedAt = Date.now();
    await waitFor(async () => (await count(client, 'alerts')) >= 50, 120_000);
    expect(simulator.running).toBe(true);

    // Kafka away for 20 s; a service started meanwhile waits for it.
    const kafkaStop = await box.fink('stop', 'kafka');
    const kafkaDownAt = Date.now();
    expect(kafkaStop.stdout.trim()).toMatch(/^kafka stopped \(SIGTERM, \d+\.\d s\)$/);
    const rawAtKafkaStop = await count(client, 'raw_alerts');
    await delay(2_000);
    const checkstream = startServiceProcess('checkstream', config);
    while (Date.now() - kafkaDownAt < KAFKA_OUTAGE_MS) {
      expectAllRunning([...all(), checkstream]);
      await delay(1_000);
    }
    const kafkaStart = await box.fink('start', 'kafka');
    expect(kafkaStart.code, kafkaStart.stderr).toBe(0);
    const kafkaBackAt = Date.now();

    // The stream flows again, to the end of the pipeline: new alerts archived, stored and seen live.
    await waitFor(async () => (await count(client, 'raw_alerts')) >= rawAtKafkaStop + 30, 120_000);
    await waitFor(() => live.some((alert) => alert.at > kafkaBackAt), 120_000);
    expect(simulator.running, 'the ClickHouse outage must fall mid-replay too').toBe(true);

    // ClickHouse away for 30 s (stopped while the services hold connections and run queries).
    const clickhouseStop = await box.fink('stop', 'clickhouse');
    const clickhouseDownAt = Date.now();
    expect(clickhouseStop.stdout.trim()).toMatch(/^clickhouse stopped \(SIGTERM, \d+\.\d s\)$/);
    while (Date.now() - clickhouseDownAt < CLICKHOUSE_OUTAGE_MS) {
      expectAllRunning([...services, checkstream]);
      await delay(1_000);
    }
    const clickhouseStart = await box.fink('start', 'clickhouse');
    expect(clickhouseStart.code, clickhouseStart.stderr).toBe(0);
    const clickhouseBackAt = Date.now();

    // The replay ends, and every group commits the end of its topic.
    expect(await simulator.exited(300_000)).toBe(0);
    expect(simulator.logged('simulator finished').map((line) => line.sent)).toEqual([ALERTS]);
    const { groupPrefix, scienceTopic, distributionPrefix } = config.pipeline;
    const groups = [
      [`${groupPrefix}-stream2raw`, upstream],
      [`${groupPrefix}-raw2science`, upstream],
      [`${groupPrefix}-distribution`, scienceTopic],
    ] as const;
    const seen: string[] = [];
    const positions = async () => {
      const at = Date.now();
      const result = await Promise.all(
        groups.map(async ([group, topic]) => ({
          group,
          committed: await committedOffsets(admin, group, topic),
          end: await endOffsets(admin, topic),
        })),
      );
      seen.push(
        `${new Date(at).toISOString()} +${Date.now() - at}ms ${JSON.stringify(result.map((r) => [r.committed, r.end]))}`,
      );
      return result;
    };
    try {
      await waitFor(
        async () =>
          (await positions()).every(
            // -1: nothing committed, right for an empty partition (the science topic's key is its schema:
            // one partition holds every message).
            ({ committed, end }) => end.every((n, p) => Math.max(0, committed[p] ?? -1) === n),
          ),
        300_000,
        1_000,
      );
    } catch (err) {
      const tails = services.map((service) => `--- ${service.name}\n${service.tail(40)}`).join('\n');
      throw new Error(
        `not caught up: ${JSON.stringify(await positions())}\n${seen.slice(-5).join('\n')}\n${tails}`,
        { cause: err },
      );
    }
    const drainedAt = Date.now();

    // Still the very processes started at the beginning.
    expectAllRunning([...services, checkstream]);
    for (const name of ['stream2raw', 'raw2science', 'distribution', 'server']) {
      const service = services.find((s) => s.name === name)!;
      expect(service.exitCode, name).toBeUndefined();
      // Each lost its broker and carried on with a new consumer.
      expect(
        service.logged('Kafka consumer lost its broker; starting a new one').length,
        name,
      ).toBeGreaterThan(0);
    }
    expect(checkstream.logged('stream sample').length).toBeGreaterThan(0);

    // Nothing lost: every alert archived, every one passing the cuts stored.
    const raw = await settled(() =>
      queryRows<{ id: string }>(client, sql`SELECT DISTINCT toString(alert_id) AS id FROM raw_alerts`),
    );
    expect(new Set(raw.map((row) => row.id))).toEqual(allIds);
    const stored = await settled(() =>
      queryRows<{ id: string }>(client, sql`SELECT toString(alert_id) AS id FROM alerts FINAL`),
    );
    expect(stored).toHaveLength(passingIds.size);
    expect(new Set(stored.map((row) => row.id))).toEqual(passingIds);

    // Nothing distributed more often than the science topic holds it, nothing a filter selects missing.
    const filterTopics = BUILTIN_FILTERS.map((filter) =>
      distributionTopic(distributionPrefix, filter.name, 'ztf'),
    );
    const { copies, selectedBy } = await copiesOn(
      kafka,
      admin,
      [scienceTopic, ...filterTopics],
      scienceTopic,
    );
    const science = copies.get(scienceTopic)!;
    expect(new Set(science.keys())).toEqual(passingIds);
    const extra: string[] = [];
    const missing: string[] = [];
    BUILTIN_FILTERS.forEach((filter, i) => {
      const topic = filterTopics[i]!;
      const onTopic = copies.get(topic)!;
      for (const [id, n] of onTopic) if (n > (science.get(id) ?? 0)) extra.push(`${topic}: ${id} x${n}`);
      for (const [id, filters] of selectedBy) {
        if (filters.has(filter.name) && !onTopic.has(id)) missing.push(`${topic}: ${id}`);
      }
    });
    expect(extra).toEqual([]);
    expect(missing).toEqual([]);
    // The live subscriber, through the consumer the outage replaced (which resumed from its last commit, behind
    // what it had delivered): no alert more often than the science topic holds it.
    const liveCopies = new Map<string, number>();
    for (const { alertId } of live) liveCopies.set(alertId, (liveCopies.get(alertId) ?? 0) + 1);
    const liveExtra = [...liveCopies].filter(([id, n]) => n > (science.get(id) ?? 0));
    expect(liveExtra).toEqual([]);
    const verifiedAt = Date.now();

    // SIGTERM while Kafka is away still stops every service within `fink stop`'s timeout, with exit code 0.
    expect((await box.fink('stop', 'kafka')).code).toBe(0);
    await delay(3_000);
    const stopping = [...services, checkstream];
    for (const service of stopping) service.signal('SIGTERM');
    for (const service of stopping) {
      expect(await service.exited(config.services.stopTimeoutMs), `${service.name}\n${service.tail()}`).toBe(
        0,
      );
    }

    const s = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
    console.info(
      `outages: ${ALERTS} alerts at ${RATE}/s; mid-replay after ${s(startedAt, kafkaDownAt)}; Kafka down ` +
        `${s(kafkaDownAt, kafkaBackAt)} (${kafkaStop.stdout.trim()}), flowing again after ` +
        `${s(kafkaBackAt, clickhouseDownAt)}; ClickHouse down ${s(clickhouseDownAt, clickhouseBackAt)} ` +
        `(${clickhouseStop.stdout.trim()}); drained ${s(clickhouseBackAt, drainedAt)} later; verified in ` +
        `${s(drainedAt, verifiedAt)}; science topic ${[...science.values()].reduce((a, b) => a + b, 0)} messages ` +
        `for ${science.size} alerts; ${live.length} live alerts received`,
    );
  }, 600_000);
});
