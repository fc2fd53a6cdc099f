// End to end: synthetic ZTF alerts (with cutouts) through Kafka -> stream2raw + raw2science -> ClickHouse, on a
// fresh database (migrated, the shared catalogs loaded for the cross-match) and fresh topics, both dropped after.
//
// The services run as processes of their own (bench/e2e-service.ts), as `fink start` runs them: each has its
// own core to compete for, its own CPU time and its own peak RSS. They read the upstream topic in their own
// consumer groups, concurrently, as in production.
//
// Two modes (BENCH_E2E_RATE):
// - 0 (default), backlog: every alert is published first, then the services start. This measures capacity: how
//   fast the pipeline drains a stream, which is what a night's peak (ZTF ~1,333 alerts/s) must stay under, and
//   what catching up after an outage needs. Generating and publishing do not compete with the services for CPU.
//   Latency here includes queueing behind the backlog fetched with the alert.
// - R > 0, paced: the services start first and alerts are generated and published at R alerts/s while they run,
//   as a night delivers them. Throughput is then R by construction; the latency is the figure of interest. The
//   generator shares the machine with the services (about 15% of a core at 1,333/s).
//
// Then distribution alone, started once the two caught up, over the science topic raw2science filled (a backlog):
// its alerts/s from its first receipt to its last publish, and its CPU per alert. It must exceed raw2science's
// rate to keep up with the science topic, by a margin to catch up after an outage.
//
// Figures: alerts/s and MB/s (upstream message bytes) from the first receipt by either service to the last
// acknowledged write by either; exact p50/p99 receipt-to-stored latency per service (see e2e-service.ts); peak
// RSS and CPU seconds per service, CPU seconds of ClickHouse and Kafka when they are local; and the ratio of
// end-to-end throughput to decode-only throughput per core on the real alerts.
//
// BENCH_E2E_COUNT (default 100,000) sets the number of alerts. Pipeline settings under test can be overridden
// the usual way, e.g. FINK_PIPELINE__BATCH_MAX_MESSAGES=2000 (the services inherit the environment).
// BENCH_E2E_WARMUP (default 10,000): each service's CPU per alert is also given from that many stored alerts on,
// without most of V8's compiling of its first minutes (BENCHMARKS.md, "raw2science's CPU by thread"), and split
// between its main thread and its other threads.
// BENCH_E2E_NODE_ARGS adds node options to the services only, e.g. to profile them:
//   BENCH_E2E_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench e2e
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Partitioners, type Admin, type Message, type Producer } from 'kafkajs';
import { generateSyntheticAlerts } from '../datasim/synthetic.ts';
import { loadCatalogFile } from '../src/cli/catalog-command.ts';
import { ensureModelsInstalled } from '../src/cli/models-command.ts';
import { sharedCatalogs } from '../src/cli/demo.ts';
import { kafkaServiceNames } from '../src/cli/local-kafka-cluster.ts';
import { Supervisor } from '../src/cli/supervisor.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createKafka, ensureTopics, sendInChunks } from '../src/pipeline/kafka.ts';
import { sampleStream } from '../src/pipeline/services/checkstream.ts';
import { MIGRATIONS_DIR } from '../src/project.ts';
import { CLICKHOUSE_CLUSTER_SERVICES } from '../src/cli/local-clickhouse-cluster.ts';
import { connectClickHouse, queryRows } from '../src/storage/clickhouse.ts';
import { dropDatabase, migrate } from '../src/storage/migrations.ts';
import { sql } from '../src/storage/sql.ts';
import { realZtfFiles, typescriptDecodeRate } from './decode.bench.ts';
import type { E2eServiceMessage, E2eServiceReport } from './e2e-service.ts';
import type { BenchmarkResult } from './run.ts';
import { envInteger } from './env.ts';
import { statCpuSeconds } from './proc.ts';

const SERVICES = ['stream2raw', 'raw2science'] as const;
type Service = (typeof SERVICES)[number] | 'distribution';
const SERVICE_SCRIPT = new URL('./e2e-service.ts', import.meta.url).pathname;
const SEED = 20261124;
/** Alerts generated and handed to the producer at once in backlog mode (~26 MB). */
const PUBLISH_CHUNK = 500;

interface E2eOptions {
  count: number;
  /** 0: publish everything first (backlog); > 0: publish at this rate while the services run. */
  rate: number;
}

function optionsFromEnv(): E2eOptions {
  return { count: envInteger('BENCH_E2E_COUNT', 100_000, 1), rate: envInteger('BENCH_E2E_RATE', 0, 0) };
}

export async function e2eBenchmark(): Promise<BenchmarkResult[]> {
  const options = optionsFromEnv();
  const base = loadConfig();
  const id = `bench_e2e_${Date.now().toString(36)}`;
  const upstream = `${id}_upstream`;
  // The services read their whole config from the file written below (FINK_CONFIG is theirs): it carries the
  // Kafka and ClickHouse sections this process resolved (from its own FINK_CONFIG, e.g. a cluster's), so that
  // they talk to the same brokers and servers as the publisher.
  const overrides = {
    kafka: base.kafka,
    clickhouse: { ...base.clickhouse, database: id },
    pipeline: {
      topics: [upstream],
      scienceTopic: `${id}_science`,
      deadLetterTopic: `${id}_dead`,
      distributionPrefix: id,
      groupPrefix: id,
      fromBeginning: true,
      metricsPort: 0,
    },
  };
  const config = loadConfig({ overrides });
  const benchDir = path.join(base.stateDir, 'bench');
  mkdirSync(benchDir, { recursive: true });
  const configFile = path.join(benchDir, `${id}.json`);
  // The services read the same overrides from a file (JSON is YAML); the environment still wins over it.
  writeFileSync(configFile, JSON.stringify(overrides));

  const logger = createLogger({ level: 'warn' }).child({ module: 'bench-e2e' });
  const kafka = createKafka(config.kafka, logger, `fink-${id}`);
  const admin = kafka.admin();
  const children: ChildProcess[] = [];
  // Distribution creates its own topics (<id>_<filter>_<survey>): every topic with the id goes.
  const topics = [upstream, config.pipeline.scienceTopic, config.pipeline.deadLetterTopic];
  const ownTopics = async () => (await admin.listTopics()).filter((topic) => topic.startsWith(`${id}_`));
  const tearDown = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await cleanUp(config, admin, [...new Set([...topics, ...(await ownTopics().catch(() => []))])]);
    await admin.disconnect();
    rmSync(configFile, { force: true });
  };
  // Interrupted (Ctrl-C, a CI timeout): still drop the database and the topics, which hold gigabytes.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: dropping ${id} (database and topics)`);
    void tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  await admin.connect();
  try {
    await migrate(config.clickhouse, MIGRATIONS_DIR);
    // raw2science scores with Fink's models: installed first when missing (it refuses to start without them).
    await ensureModelsInstalled(config);
    for (const catalog of sharedCatalogs(config.sharedDir)) await loadCatalogFile(config, catalog);
    await ensureTopics(kafka, topics, config.kafka.defaultPartitions, config.kafka);
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: false,
    });
    await producer.connect();

    let published = { alerts: 0, bytes: 0, seconds: 0 };
    if (options.rate === 0) published = await publishAll(producer, upstream, options.count, config);
    const resources = sampleResources(config);
    const services = SERVICES.map((service) => startService(service, configFile, config));
    children.push(...services.map((s) => s.child));
    await Promise.all(services.map((s) => s.ready));
    if (options.rate > 0) published = await publishPaced(producer, upstream, options, config);
    await producer.disconnect();

    const groups = SERVICES.map((service) => `${id}-${service}`);
    await waitCaughtUp(admin, upstream, groups, options.count);
    const used = sampleResources(config).since(resources);
    for (const child of children) child.kill('SIGTERM');
    const reports = await Promise.all(services.map((s) => s.report));

    // Then distribution alone, over the science topic raw2science filled: its capacity on a backlog (what it
    // needs to keep up with raw2science, and to catch up after an outage), uncontended by the other two.
    const scienceMessages = sum(
      (await admin.fetchTopicOffsets(config.pipeline.scienceTopic)).map((p) => Number(p.high)),
    );
    const distribution = startService('distribution', configFile, config);
    children.push(distribution.child);
    await distribution.ready;
    await waitCaughtUp(admin, config.pipeline.scienceTopic, [`${id}-distribution`], scienceMessages, 50);
    distribution.child.kill('SIGTERM');
    const distributed = await distribution.report;
    const distributedCopies = await publishedCounts(admin, await ownTopics(), topics);

    const stored = await storedCounts(config);
    if (stored.raw !== options.count) {
      throw new Error(`raw_alerts holds ${stored.raw} rows for ${options.count} alerts published`);
    }
    const science = reports.find((r) => r.service === 'raw2science')!;
    if (stored.alerts !== science.latenciesMs.length) {
      throw new Error(
        `alerts holds ${stored.alerts} rows; raw2science reported ${science.latenciesMs.length}`,
      );
    }
    const decode = typescriptDecodeRate(realZtfFiles().map((file) => readFileSync(file)));
    return [
      ...results(options, published, reports, used, stored, decode.cpu),
      distributionResult(options, scienceMessages, distributed, distributedCopies),
    ];
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await tearDown();
  }
}

interface Published {
  alerts: number;
  bytes: number;
  seconds: number;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** Messages on each distribution topic (every topic of the run but the pipeline's own). */
async function publishedCounts(admin: Admin, own: string[], pipelineTopics: string[]): Promise<number> {
  let total = 0;
  for (const topic of own.filter((t) => !pipelineTopics.includes(t))) {
    total += sum((await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high)));
  }
  return total;
}

function* syntheticMessages(count: number): Generator<Message & { value: Buffer }> {
  for (const alert of generateSyntheticAlerts({ seed: SEED, count })) yield { value: alert.bytes };
}

/** Backlog mode: generates and publishes every alert before the services start. */
async function publishAll(
  producer: Producer,
  topic: string,
  count: number,
  config: Config,
): Promise<Published> {
  const started = performance.now();
  let bytes = 0;
  let chunk: Message[] = [];
  const flush = async () => {
    await sendInChunks(producer, topic, chunk, config.kafka.maxRequestBytes);
    chunk = [];
  };
  for (const message of syntheticMessages(count)) {
    chunk.push(message);
    bytes += message.value.length;
    if (chunk.length >= PUBLISH_CHUNK) await flush();
  }
  await flush();
  return { alerts: count, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Paced mode: publishes at `rate` alerts/s in 100 ms ticks, generating as it goes. */
async function publishPaced(
  producer: Producer,
  topic: string,
  { count, rate }: E2eOptions,
  config: Config,
): Promise<Published> {
  const messages = syntheticMessages(count);
  const started = performance.now();
  let sent = 0;
  let bytes = 0;
  while (sent < count) {
    const due = Math.min(count, Math.ceil((rate * (performance.now() - started)) / 1000));
    const tick: Message[] = [];
    while (sent + tick.length < due) {
      const next = messages.next();
      if (next.done === true) break;
      tick.push(next.value);
      bytes += next.value.value.length;
    }
    if (tick.length > 0) {
      await sendInChunks(producer, topic, tick, config.kafka.maxRequestBytes);
      sent += tick.length;
    }
    await delay(100);
  }
  return { alerts: sent, bytes, seconds: (performance.now() - started) / 1000 };
}

interface RunningService {
  child: ChildProcess;
  ready: Promise<void>;
  report: Promise<E2eServiceReport>;
}

function startService(service: Service, configFile: string, config: Config): RunningService {
  const logFile = path.join(config.stateDir, 'logs', `bench-e2e-${service}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'w');
  const child = fork(SERVICE_SCRIPT, [service], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_E2E_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, FINK_CONFIG: configFile },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${service} exited (${code ?? signal}) before reporting; see ${logFile}`)),
    );
  });
  const message = (type: E2eServiceMessage['type']) =>
    Promise.race([
      new Promise<E2eServiceMessage>((resolve) => {
        const listener = (msg: E2eServiceMessage) => {
          if (msg.type !== type) return;
          child.off('message', listener);
          resolve(msg);
        };
        child.on('message', listener);
      }),
      exited,
    ]);
  const ready = message('ready').then(() => undefined);
  const report = message('report') as Promise<E2eServiceReport>;
  // Not awaited on every path (a failed start); keep the rejection from being unhandled.
  ready.catch(() => {});
  report.catch(() => {});
  return { child, ready, report };
}

/** Both consumer groups committed every offset of the topic. */
async function waitCaughtUp(
  admin: Admin,
  topic: string,
  groups: string[],
  count: number,
  msPerMessage = 10,
): Promise<void> {
  const deadline = Date.now() + Math.max(120_000, count * msPerMessage);
  for (;;) {
    const { rows } = await sampleStream(admin, [topic], groups, undefined);
    const row = rows[0];
    if (row !== undefined && row.total >= count && groups.every((group) => row.lag[group] === 0)) return;
    if (Date.now() > deadline) {
      throw new Error(`the services did not catch up before the deadline: ${JSON.stringify(row?.lag)}`);
    }
    await delay(250);
  }
}

interface ResourceSample {
  at: number;
  clickhouse: number | undefined;
  kafka: number | undefined;
  machineBusy: number;
  machineTotal: number;
}

interface ResourceUse {
  seconds: number;
  /** CPU seconds over the interval; undefined when the server is not a local one. */
  clickhouse: number | undefined;
  kafka: number | undefined;
  /** Busy fraction of all cores of the machine (everything on it, not only this benchmark). */
  machineBusy: number;
}

function sampleResources(config: Config): ResourceSample & { since(before: ResourceSample): ResourceUse } {
  const supervisor = new Supervisor(config.stateDir);
  const cpuOf = (...services: string[]): number | undefined => {
    let seconds: number | undefined;
    for (const service of services) {
      const status = supervisor.status(service);
      const used = status.state === 'running' ? statCpuSeconds(`/proc/${status.record.pid}/stat`) : undefined;
      if (used !== undefined) seconds = (seconds ?? 0) + used;
    }
    return seconds;
  };
  const [busy, total] = machineTicks();
  const sample = {
    at: performance.now(),
    // The single server, or the local cluster's nodes and ZooKeeper (conf/cluster.yaml), whichever runs.
    clickhouse: cpuOf('clickhouse', ...CLICKHOUSE_CLUSTER_SERVICES.map((s) => s.name)),
    // The single broker, or the three of the local cluster together.
    kafka: cpuOf(...kafkaServiceNames(config)),
    machineBusy: busy,
    machineTotal: total,
  };
  const minus = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a - b;
  return {
    ...sample,
    since: (before) => ({
      seconds: (sample.at - before.at) / 1000,
      clickhouse: minus(sample.clickhouse, before.clickhouse),
      kafka: minus(sample.kafka, before.kafka),
      machineBusy: (sample.machineBusy - before.machineBusy) / (sample.machineTotal - before.machineTotal),
    }),
  };
}

/** [busy, total] CPU ticks of the whole machine since boot (/proc/stat; idle and iowait are not busy). */
function machineTicks(): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return [total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total];
}

interface StoredCounts {
  raw: number;
  alerts: number;
  /** Bytes on disk of the database's active parts, per table (compressed, before background merges). */
  bytesByTable: Record<string, number>;
}

async function storedCounts(config: Config): Promise<StoredCounts> {
  const client = connectClickHouse(config.clickhouse);
  try {
    const [row] = await queryRows<{ raw: string; alerts: string }>(
      client,
      sql`SELECT (SELECT count() FROM raw_alerts) AS raw, (SELECT count() FROM alerts) AS alerts`,
    );
    const parts = await queryRows<{ table: string; bytes: string }>(
      client,
      sql`SELECT table, sum(bytes_on_disk) AS bytes FROM system.parts
          WHERE database = ${config.clickhouse.database} AND active GROUP BY table`,
    );
    return {
      raw: Number(row?.raw),
      alerts: Number(row?.alerts),
      bytesByTable: Object.fromEntries(parts.map((p) => [p.table, Number(p.bytes)])),
    };
  } finally {
    await client.close();
  }
}

async function cleanUp(config: Config, admin: Admin, topics: string[]): Promise<void> {
  // On every node in cluster mode.
  await dropDatabase(config.clickhouse);
  const existing = new Set(await admin.listTopics());
  await admin.deleteTopics({ topics: topics.filter((topic) => existing.has(topic)) });
}

/** Distribution over the science backlog: science messages per second from its first receipt to its last publish. */
function distributionResult(
  options: E2eOptions,
  scienceMessages: number,
  report: E2eServiceReport,
  copies: number,
): BenchmarkResult {
  const seconds = (report.lastStoredAt - report.firstReceivedAt) / 1000;
  const sorted = Float64Array.from(report.latenciesMs).sort();
  return {
    name: `e2e distribution over the science backlog of ${scienceMessages.toLocaleString('en')} messages (${options.count.toLocaleString('en')} alerts, started after the others caught up)`,
    figures: {
      'alerts/s': Math.round(scienceMessages / seconds),
      'first receipt to last published': `${seconds.toFixed(1)} s`,
      'copies published': copies,
      'receipt-to-published p50': `${Math.round(percentile(sorted, 0.5))} ms`,
      p99: `${Math.round(percentile(sorted, 0.99))} ms`,
      'peak RSS': `${Math.round(report.maxRssBytes / 2 ** 20)} MiB`,
      'CPU user+sys': `${(report.userSeconds + report.systemSeconds).toFixed(1)} s (${((1000 * (report.userSeconds + report.systemSeconds)) / scienceMessages).toFixed(2)} ms/alert)`,
    },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function results(
  options: E2eOptions,
  published: Published,
  reports: E2eServiceReport[],
  used: ResourceUse,
  stored: StoredCounts,
  decodePerCore: number,
): BenchmarkResult[] {
  const first = Math.min(...reports.map((r) => r.firstReceivedAt));
  const last = Math.max(...reports.map((r) => r.lastStoredAt));
  const seconds = (last - first) / 1000;
  const rate = published.alerts / seconds;
  const mb = published.bytes / 1e6;
  const mode =
    options.rate === 0
      ? 'backlog: all published first'
      : `paced: published at ${options.rate}/s while running`;
  const what = `e2e ${published.alerts.toLocaleString('en')} synthetic ZTF alerts with cutouts (${mode})`;
  const ms = (value: number) => `${Math.round(value)} ms`;
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(0)} s`);
  return [
    {
      name: what,
      figures: {
        'alerts/s': Math.round(rate),
        'MB/s': Math.round(mb / seconds),
        'first receipt to last stored': `${seconds.toFixed(1)} s`,
        'stored in alerts': stored.alerts,
        'ClickHouse bytes on disk per alert': `${(Object.values(stored.bytesByTable).reduce((a, b) => a + b, 0) / published.alerts / 1000).toFixed(1)} KB`,
        'largest tables (KB/alert)': Object.entries(stored.bytesByTable)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([table, bytes]) => `${table} ${(bytes / published.alerts / 1000).toFixed(1)}`)
          .join(', '),
        'e2e / decode-only per core': `${(rate / decodePerCore).toFixed(2)} (decode ${Math.round(decodePerCore)}/s/core)`,
        ...(options.rate === 0 ? { 'publish beforehand': `${published.seconds.toFixed(0)} s` } : {}),
      },
    },
    ...reports.map((report) => {
      const sorted = Float64Array.from(report.latenciesMs).sort();
      return {
        name: `${what}: ${report.service}`,
        figures: {
          'alerts/s (own window)': Math.round(
            published.alerts / ((report.lastStoredAt - report.firstReceivedAt) / 1000),
          ),
          'receipt-to-stored p50': ms(percentile(sorted, 0.5)),
          p99: ms(percentile(sorted, 0.99)),
          max: ms(sorted[sorted.length - 1] ?? NaN),
          'peak RSS': mib(report.maxRssBytes),
          'CPU user+sys': `${(report.userSeconds + report.systemSeconds).toFixed(1)} s (sys ${report.systemSeconds.toFixed(1)} s)`,
          'page faults/alert': Math.round(report.minorPageFaults / published.alerts),
          ...(report.threads === undefined
            ? {}
            : {
                'CPU main thread / other threads (whole life)': `${report.threads.mainSeconds.toFixed(1)} / ${report.threads.otherSeconds.toFixed(1)} s`,
              }),
          ...(report.warm === undefined || report.warm.alerts === 0
            ? {}
            : {
                [`CPU per alert once warm (after ${report.warm.afterAlerts.toLocaleString('en')} stored)`]: `${((1000 * report.warm.cpuSeconds) / report.warm.alerts).toFixed(2)} ms`,
                ...(report.warm.threads === undefined
                  ? {}
                  : {
                      'of which main thread / other threads': `${((1000 * report.warm.threads.mainSeconds) / report.warm.alerts).toFixed(2)} / ${((1000 * report.warm.threads.otherSeconds) / report.warm.alerts).toFixed(2)} ms`,
                    }),
              }),
        },
      };
    }),
    {
      name: `${what}: servers and machine over the run (${used.seconds.toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)})`,
      figures: {
        'ClickHouse CPU': cpu(used.clickhouse),
        'Kafka CPU': cpu(used.kafka),
        'machine busy': `${Math.round(used.machineBusy * 100)}% of ${cpus().length} cores`,
      },
    },
  ];
}
