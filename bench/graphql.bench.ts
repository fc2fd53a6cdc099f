// GraphQL API: query latency and throughput on a survey-sized archive, and the live feed's fan-out to a thousand
// WebSocket subscribers. A fresh database (migrated, then filled by bench/graphql-data.ts: 1 million objects,
// 10 million alerts) and fresh topics, both dropped afterwards, also on Ctrl-C.
//
// The server is the production one (launchServer), in this process, on port 0, logging nothing.
// - Queries over HTTP (fetch, keep-alive), C in flight: `object(objectId) { lightCurve }`, a 10" coneSearch at
//   an object's position, `latestObjects(label)` over a 7-day window; random existing ids and positions
//   (sampled first), after a warm-up. p50/p99 latency per query, then requests/s of the three mixed. The client
//   shares the server's event loop (fetch and JSON parsing of small answers: tens of microseconds a request),
//   so the latencies are if anything high. The store calls behind each query are timed alone too, to tell
//   ClickHouse's time from the GraphQL layer's.
// - Live: S graphql-ws subscribers over F distinct filters (S / F each), in a child process, and a producer in
//   another (bench/graphql-live-client.ts), so that neither takes the server's event loop. The producer
//   publishes science messages (each synthetic ZTF alert's record, as raw2science publishes it) at R alerts/s: a
//   warm-up, then the measured part. Figures: deliveries/s, p50/p99 latency from the science message's Kafka
//   timestamp (`publishedAt`, when it was produced: the server's consumer lag included) to the client's receipt,
//   shared executions started (F expected, not S), filter evaluations, the server's event-loop delay, and whether
//   every subscriber received exactly the measured alerts its filter selects: the benchmark waits for that (up to
//   DRAIN_TIMEOUT_MS after the last alert was produced) and reports the subscribers left short. Meanwhile this process asks `object(objectId)` one request at a time: the latency
//   of a plain query while the live fan-out runs (the issue's bound: p99 < 250 ms).
//
// Settings (environment): BENCH_GRAPHQL_OBJECTS (1,000,000), BENCH_GRAPHQL_ALERTS_PER_OBJECT (10),
// BENCH_GRAPHQL_REQUESTS per query kind (1,000), BENCH_GRAPHQL_CONCURRENCY (8), BENCH_GRAPHQL_SUBSCRIBERS
// (1,000), BENCH_GRAPHQL_FILTERS (100), BENCH_GRAPHQL_PER_CONNECTION (subscriptions per WebSocket, 1),
// BENCH_GRAPHQL_RATE (1,000 alerts/s), BENCH_GRAPHQL_SECONDS (30). The issue's fan-out case, 200 connections x 20
// subscriptions: BENCH_GRAPHQL_SUBSCRIBERS=4000 BENCH_GRAPHQL_PER_CONNECTION=20.
// BENCH_GRAPHQL_DATABASE=<name> runs on that already filled database and keeps it (for profiling runs);
// BENCH_GRAPHQL_KEEP=1 keeps the database this run filled and prints its name.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createKafka } from '../src/pipeline/kafka.ts';
import { MIGRATIONS_DIR } from '../src/project.ts';
import { launchServer, type LaunchedServer } from '../src/server/launch.ts';
import { ClickHouseAlertStore } from '../src/storage/alert-store.ts';
import { connectClickHouse, runCommand, type ClickHouseClient } from '../src/storage/clickhouse.ts';
import { migrate } from '../src/storage/migrations.ts';
import { identifier, sql } from '../src/storage/sql.ts';
import { fillDatabase, sampleTargets, type FillReport, type QueryTargets } from './graphql-data.ts';
import type {
  LiveChildMessage,
  LiveGenerated,
  LiveParentMessage,
  LiveProduced,
  LiveReport,
} from './graphql-live-client.ts';
import type { BenchmarkResult } from './run.ts';
import { envInteger } from './env.ts';

const SEED = 20261125;
const CLIENT_SCRIPT = new URL('./graphql-live-client.ts', import.meta.url).pathname;
const TARGETS = 5000;
const CONE_RADIUS_ARCSEC = 10;
const WINDOW_DAYS = 7;
const WARMUP_SECONDS = 3;
/** After the last alert was produced, how long the subscribers may take to receive what they expect. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Targets the task set for the API (p99, ms). */
const TARGET_P99_MS = { object: 50, cone: 100, live: 250 };

interface GraphqlOptions {
  objects: number;
  alertsPerObject: number;
  requests: number;
  concurrency: number;
  subscribers: number;
  filters: number;
  perConnection: number;
  rate: number;
  seconds: number;
  database: string | undefined;
  keep: boolean;
}

function optionsFromEnv(): GraphqlOptions {
  const options = {
    objects: envInteger('BENCH_GRAPHQL_OBJECTS', 1_000_000, 1),
    alertsPerObject: envInteger('BENCH_GRAPHQL_ALERTS_PER_OBJECT', 10, 1),
    requests: envInteger('BENCH_GRAPHQL_REQUESTS', 1000, 1),
    concurrency: envInteger('BENCH_GRAPHQL_CONCURRENCY', 8, 1),
    subscribers: envInteger('BENCH_GRAPHQL_SUBSCRIBERS', 1000, 1),
    filters: envInteger('BENCH_GRAPHQL_FILTERS', 100, 1),
    perConnection: envInteger('BENCH_GRAPHQL_PER_CONNECTION', 1, 1),
    rate: envInteger('BENCH_GRAPHQL_RATE', 1000, 1),
    seconds: envInteger('BENCH_GRAPHQL_SECONDS', 30, 1),
    database: process.env.BENCH_GRAPHQL_DATABASE || undefined,
    keep: process.env.BENCH_GRAPHQL_KEEP === '1',
  };
  if (options.subscribers % options.filters !== 0) {
    throw new Error('BENCH_GRAPHQL_SUBSCRIBERS must be a multiple of BENCH_GRAPHQL_FILTERS');
  }
  return options;
}

export async function graphqlBenchmark(): Promise<BenchmarkResult[]> {
  const options = optionsFromEnv();
  const id = `bench_graphql_${Date.now().toString(36)}`;
  const database = options.database ?? id;
  const parsed = loadConfig({
    overrides: {
      clickhouse: { database },
      pipeline: { scienceTopic: `${id}_science`, groupPrefix: id, metricsPort: 0 },
      server: {
        eventsTopic: `${id}_events`,
        followupTopic: `${id}_followups`,
        // Every client of the benchmark is this machine: one address, many requests and connections.
        addressRatePerSecond: 1_000_000,
        addressBurst: 1_000_000,
        addressConcurrency: 1000,
        maxConnectionsPerAddress: 100_000,
      },
      log: { level: 'silent' },
    },
  });
  // A free port (the config schema accepts 1-65535 only; the server listens on whatever it is given).
  const config: Config = { ...parsed, server: { ...parsed.server, port: 0 } };
  const topics = [config.pipeline.scienceTopic, config.server.eventsTopic, config.server.followupTopic];
  const dropDatabase = options.database === undefined && !options.keep;
  const children: ChildProcess[] = [];
  let launched: LaunchedServer | undefined;
  const tearDown = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await launched?.close().catch(() => undefined);
    await cleanUp(config, topics, dropDatabase);
  };
  // Interrupted (Ctrl-C, a CI timeout): still drop the database (~1.5 GB) and the topics.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: dropping ${dropDatabase ? `${database} and ` : ''}the topics of ${id}`);
    void tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const client = connectClickHouse(config.clickhouse);
  try {
    let fill: FillReport | undefined;
    if (options.database === undefined) {
      await migrate(config.clickhouse, MIGRATIONS_DIR);
      fill = await fillDatabase(
        client,
        database,
        {
          objects: options.objects,
          alertsPerObject: options.alertsPerObject,
          upperLimitsPerObject: 3,
          seed: SEED,
        },
        (message) => console.error(`fill ${message}`),
      );
      if (options.keep) console.error(`keeping database ${database} (BENCH_GRAPHQL_DATABASE=${database})`);
    }
    const targets = await sampleTargets(client, TARGETS);
    launched = await launchServer(config, createLogger({ level: 'silent' }));
    const queries = await queryBenchmark(launched.server.url, client, targets, options);
    const live = await liveBenchmark(launched, config, options, targets);
    return results(options, fill, queries, live);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await client.close();
    await tearDown();
  }
}

async function cleanUp(config: Config, topics: string[], dropDatabase: boolean): Promise<void> {
  if (dropDatabase) {
    const server = connectClickHouse(config.clickhouse, { database: null });
    const database = config.clickhouse.database;
    try {
      await runCommand(server, sql`DROP DATABASE IF EXISTS ${identifier(database, [database])}`);
    } finally {
      await server.close();
    }
  }
  const admin = createKafka(config.kafka, createLogger({ level: 'silent' }), 'bench-graphql-admin').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: topics.filter((topic) => existing.has(topic)) });
  } finally {
    await admin.disconnect();
  }
}

// ---- Queries ----

type QueryKind = 'object' | 'cone' | 'latest';
const QUERY_KINDS: readonly QueryKind[] = ['object', 'cone', 'latest'];

interface Request {
  query: string;
  variables: Record<string, unknown>;
}

const OBJECT_QUERY = `query Object($id: String!) {
  object(objectId: $id) { objectId lightCurve { jd mag band kind } }
}`;
const CONE_QUERY = `query Cone($ra: Float!, $dec: Float!, $r: Float!) {
  coneSearch(ra: $ra, dec: $dec, radiusArcsec: $r, first: 10) { distanceArcsec object { objectId } }
}`;
const LATEST_QUERY = `query Latest($label: String!, $since: Float!, $until: Float!) {
  latestObjects(label: $label, sinceJd: $since, untilJd: $until, first: 50) { objectId }
}`;

/** Deterministic choice of targets: request n of a kind always asks the same thing. */
function requestFor(kind: QueryKind, n: number, targets: QueryTargets): Request {
  const target = targets.objects[(n * 7919) % targets.objects.length]!;
  if (kind === 'object') return { query: OBJECT_QUERY, variables: { id: target.objectId } };
  if (kind === 'cone') {
    return { query: CONE_QUERY, variables: { ra: target.ra, dec: target.dec, r: CONE_RADIUS_ARCSEC } };
  }
  const label = targets.labels[n % targets.labels.length]!;
  const span = targets.maxJd - targets.minJd - WINDOW_DAYS;
  const until = targets.minJd + WINDOW_DAYS + ((n * 0.618034) % 1) * span;
  return { query: LATEST_QUERY, variables: { label, since: until - WINDOW_DAYS, until } };
}

interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
}

function stats(latencies: number[], seconds: number): LatencyStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    perSecond: sorted.length / seconds,
  };
}

/** Runs `count` calls of `call(n)` with `concurrency` in flight; latency of each [ms]. */
async function closedLoop(
  count: number,
  concurrency: number,
  call: (n: number) => Promise<void>,
): Promise<LatencyStats> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const t0 = performance.now();
      await call(n);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return stats(latencies, (performance.now() - started) / 1000);
}

async function post(url: string, request: Request): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!response.ok || body.errors !== undefined || body.data === undefined) {
    throw new Error(`query failed (${response.status}): ${JSON.stringify(body).slice(0, 500)}`);
  }
  // Every object asked for exists: a null would mean the query measured found nothing.
  if ('object' in body.data && body.data.object === null) throw new Error('object(objectId) returned null');
  if ('coneSearch' in body.data && (body.data.coneSearch as unknown[]).length === 0) {
    throw new Error('a cone search at an object position found nothing');
  }
}

interface QueryResults {
  api: Record<QueryKind, LatencyStats>;
  store: Record<QueryKind, LatencyStats>;
  mixed: LatencyStats;
  /** Objects returned by latestObjects per request, on average (the page is 50). */
  latestPerRequest: number;
}

async function queryBenchmark(
  baseUrl: string,
  client: ClickHouseClient,
  targets: QueryTargets,
  options: GraphqlOptions,
): Promise<QueryResults> {
  const url = `${baseUrl}/graphql`;
  const { requests, concurrency } = options;
  // Warm-up: JIT, connection pools, ClickHouse's marks and page caches, the same way for every kind.
  const warmupEnd = performance.now() + WARMUP_SECONDS * 1000;
  for (let round = 0; performance.now() < warmupEnd; round++) {
    await closedLoop(30, concurrency, (n) =>
      post(url, requestFor(QUERY_KINDS[n % 3]!, 1_000_000 + round * 30 + n, targets)),
    );
  }
  const api = {} as Record<QueryKind, LatencyStats>;
  for (const kind of QUERY_KINDS) {
    api[kind] = await closedLoop(requests, concurrency, (n) => post(url, requestFor(kind, n, targets)));
    console.error(`api ${kind}: p50 ${api[kind].p50.toFixed(1)} ms, p99 ${api[kind].p99.toFixed(1)} ms`);
  }
  const mixed = await closedLoop(requests, concurrency, (n) =>
    post(url, requestFor(QUERY_KINDS[n % 3]!, 500_000 + n, targets)),
  );

  // The same reads straight through the store (what the resolvers call, DataLoaders aside).
  const store = new ClickHouseAlertStore(client);
  let latestObjects = 0;
  const storeCalls: Record<QueryKind, (n: number) => Promise<void>> = {
    object: async (n) => {
      const { variables } = requestFor('object', n, targets);
      const ids = [variables.id as string];
      await Promise.all([store.objectsByIds(ids), store.lightCurvesByObjectIds(ids)]);
    },
    cone: async (n) => {
      const { variables } = requestFor('cone', n, targets);
      const hits = await store.cone({
        ra: variables.ra as number,
        dec: variables.dec as number,
        radiusArcsec: CONE_RADIUS_ARCSEC,
        limit: 10,
      });
      await store.objectsByIds(hits.map((hit) => hit.objectId));
    },
    latest: async (n) => {
      const { variables } = requestFor('latest', n, targets);
      const ids = await store.latestByClass({
        label: variables.label as string,
        jdMin: variables.since as number,
        jdMax: variables.until as number,
        limit: 50,
      });
      latestObjects += ids.length;
      if (ids.length > 0) await store.objectsByIds(ids);
    },
  };
  const storeStats = {} as Record<QueryKind, LatencyStats>;
  for (const kind of QUERY_KINDS) {
    storeStats[kind] = await closedLoop(requests, concurrency, storeCalls[kind]);
  }
  return { api, store: storeStats, mixed, latestPerRequest: latestObjects / requests };
}

// ---- Live ----

interface LiveResults {
  /** `object(objectId)` one at a time while the alerts flowed. */
  objectDuringLive: LatencyStats;
  generated: LiveGenerated;
  produced: LiveProduced;
  report: LiveReport;
  subscribeSeconds: number;
  executionsStarted: number;
  filterEvaluations: number;
  alertsReceived: number;
  incomplete: number;
  expectedDeliveries: number;
  serverCpuSeconds: number;
  /** Wall time from the producer's start (warm-up included) to the drain's end. */
  liveSeconds: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  machineBusy: number;
}

interface Child {
  process: ChildProcess;
  next<T extends LiveChildMessage['type']>(type: T): Promise<Extract<LiveChildMessage, { type: T }>>;
  send(message: LiveParentMessage): void;
}

function startChild(args: string[], children: ChildProcess[]): Child {
  const child = fork(CLIENT_SCRIPT, args, {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`live client ${args[0]} exited (${code ?? signal})`)),
    );
  });
  exited.catch(() => {});
  return {
    process: child,
    next: (type) =>
      Promise.race([
        new Promise((resolve) => {
          const listener = (message: LiveChildMessage) => {
            if (message.type !== type) return;
            child.off('message', listener);
            resolve(message);
          };
          child.on('message', listener);
        }),
        exited,
      ]) as Promise<never>,
    send: (message) => child.send(message),
  };
}

async function liveBenchmark(
  launched: LaunchedServer,
  config: Config,
  options: GraphqlOptions,
  targets: QueryTargets,
): Promise<LiveResults> {
  const { server, live } = launched;
  const children: ChildProcess[] = [];
  const warmup = options.rate * WARMUP_SECONDS;
  const measured = options.rate * options.seconds;
  try {
    const producer = startChild(
      ['producer', String(SEED), String(warmup), String(measured), String(options.filters)],
      children,
    );
    const generated = await producer.next('generated');
    console.error(`live: ${warmup + measured} science messages encoded in ${generated.seconds.toFixed(1)} s`);

    const subscribers = startChild(['subscribers'], children);
    const perFilter = options.subscribers / options.filters;
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
    subscribers.send({
      type: 'subscribe',
      url: wsUrl,
      filters: generated.filters,
      perFilter,
      perConnection: options.perConnection,
      warmupIds: generated.warmupIds,
    });
    const subscribed = await subscribers.next('subscribed');
    await waitFor(() => server.shared.activeExecutions === options.filters, 30_000, 'shared executions');
    const executionsAfterSubscribe = server.shared.executionsStarted;

    const loop = monitorEventLoopDelay({ resolution: 5 });
    const evaluationsBefore = live.counters.filterEvaluations;
    const cpuBefore = process.cpuUsage();
    const machineBefore = machineTicks();
    loop.enable();
    const liveStarted = performance.now();
    producer.send({ type: 'run', topic: config.pipeline.scienceTopic, rate: options.rate });
    // A plain query from another client, one at a time, while the alerts flow.
    const objectLatencies: number[] = [];
    let producing = true;
    const url = `${server.url}/graphql`;
    const queries = (async () => {
      for (let n = 0; producing; n++) {
        const t0 = performance.now();
        await post(url, requestFor('object', 2_000_000 + n, targets));
        objectLatencies.push(performance.now() - t0);
      }
    })();
    const produced = await producer.next('produced');
    producing = false;
    await queries;
    const expectedDeliveries = generated.expected.reduce((sum, n) => sum + n * perFilter, 0);
    // Drained: every subscriber has what its filter selects, or the deadline passed (then reported short).
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      subscribers.send({ type: 'counts' });
      const { counts } = await subscribers.next('counts');
      const complete = counts.every((count, s) => count === generated.expected[Math.floor(s / perFilter)]);
      if (complete || Date.now() > drainDeadline) break;
      await delay(200);
    }
    loop.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const machine = machineTicks();
    subscribers.send({ type: 'report' });
    const report = await subscribers.next('report');
    const incomplete = report.counts.filter(
      (count, s) => count !== generated.expected[Math.floor(s / perFilter)],
    ).length;
    return {
      objectDuringLive: stats(objectLatencies, (performance.now() - liveStarted) / 1000),
      generated,
      produced,
      report,
      subscribeSeconds: subscribed.seconds,
      executionsStarted: executionsAfterSubscribe,
      filterEvaluations: live.counters.filterEvaluations - evaluationsBefore,
      alertsReceived: warmup + measured,
      incomplete,
      expectedDeliveries,
      serverCpuSeconds: (cpu.user + cpu.system) / 1e6,
      liveSeconds: (performance.now() - liveStarted) / 1000,
      eventLoopP99Ms: loop.percentile(99) / 1e6,
      eventLoopMaxMs: loop.max / 1e6,
      machineBusy: (machine[0] - machineBefore[0]) / (machine[1] - machineBefore[1]),
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** [busy, total] jiffies of all cores since boot (/proc/stat): everything on the machine, not only this. */
function machineTicks(): [number, number] {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return [total - idle, total];
}

// ---- Report ----

/** A duration; '-' when there is none (no deliveries: the percentiles are NaN, null once sent over IPC). */
const ms = (value: number | null) =>
  value === null || !Number.isFinite(value) ? '-' : `${value.toFixed(1)} ms`;
const verdict = (p99: number, target: number) =>
  p99 <= target ? `met (<= ${target} ms)` : `MISSED (> ${target} ms)`;

function results(
  options: GraphqlOptions,
  fill: FillReport | undefined,
  queries: QueryResults,
  live: LiveResults,
): BenchmarkResult[] {
  const out: BenchmarkResult[] = [];
  if (fill !== undefined) {
    out.push({
      name: 'graphql fill',
      figures: {
        objects: options.objects.toLocaleString('en-US'),
        alerts: (options.objects * options.alertsPerObject).toLocaleString('en-US'),
        seconds: fill.seconds.toFixed(0),
        steps: fill.steps.map((s) => `${s.step.split(':')[0]} ${s.seconds.toFixed(0)} s`).join('; '),
        tables: fill.tables
          .map(
            (t) =>
              `${t.table} ${t.rows.toLocaleString('en-US')} rows ${(t.bytesOnDisk / 2 ** 20).toFixed(0)} MiB`,
          )
          .join('; '),
      },
    });
  }
  const { api, store } = queries;
  const row = (
    kind: QueryKind,
    label: string,
    target: number | undefined,
    extra: Record<string, string> = {},
  ): BenchmarkResult => ({
    name: `graphql ${label}`,
    figures: {
      requests: api[kind].count,
      concurrency: options.concurrency,
      p50: ms(api[kind].p50),
      p99: ms(api[kind].p99),
      max: ms(api[kind].max),
      'requests/s': api[kind].perSecond.toFixed(0),
      'store p50/p99': `${ms(store[kind].p50)} / ${ms(store[kind].p99)}`,
      ...(target === undefined ? {} : { target: verdict(api[kind].p99, target) }),
      ...extra,
    },
  });
  out.push(row('object', 'object(objectId) + lightCurve', TARGET_P99_MS.object));
  out.push(row('cone', `coneSearch ${CONE_RADIUS_ARCSEC}"`, TARGET_P99_MS.cone));
  out.push(
    row('latest', `latestObjects(label) ${WINDOW_DAYS} days`, undefined, {
      'objects per answer': queries.latestPerRequest.toFixed(1),
    }),
  );
  out.push({
    name: 'graphql mixed (1/3 each)',
    figures: {
      requests: queries.mixed.count,
      'requests/s': queries.mixed.perSecond.toFixed(0),
      p50: ms(queries.mixed.p50),
      p99: ms(queries.mixed.p99),
    },
  });
  const { report, produced, generated } = live;
  const seconds = (produced.measuredTo - produced.measuredFrom) / 1000;
  out.push({
    name: 'graphql live',
    figures: {
      subscribers: options.subscribers,
      filters: options.filters,
      'subscriptions per connection': options.perConnection,
      'alerts/s produced': (produced.sent / seconds).toFixed(0),
      'late producer ticks': produced.lateTicks,
      'mean message': `${(generated.meanValueBytes / 1024).toFixed(1)} KiB`,
      deliveries: report.deliveries,
      'deliveries/s': (report.deliveries / seconds).toFixed(0),
      p50: ms(report.latencyPercentiles.p50),
      p90: ms(report.latencyPercentiles.p90),
      p99: ms(report.latencyPercentiles.p99),
      'p99.9': ms(report.latencyPercentiles.p999),
      max: ms(report.latencyPercentiles.max),
      target: verdict(report.latencyPercentiles.p99, TARGET_P99_MS.live),
      // The same deliveries split at the server's Kafka receipt (receivedAt): where the delay accrues.
      'Kafka timestamp to server receipt p50/p99/max': `${ms(report.consumerLagPercentiles.p50)} / ${ms(report.consumerLagPercentiles.p99)} / ${ms(report.consumerLagPercentiles.max)}`,
      'server receipt to client p50/p99/max': `${ms(report.serverToClientPercentiles.p50)} / ${ms(report.serverToClientPercentiles.p99)} / ${ms(report.serverToClientPercentiles.max)}`,
      complete:
        live.incomplete === 0 && report.deliveries === live.expectedDeliveries
          ? `yes (every subscriber got exactly the measured alerts its filter selects)`
          : `NO: ${live.incomplete} subscribers off; ${report.deliveries} of ${live.expectedDeliveries} deliveries`,
      failures: report.failures.length === 0 ? 'none' : report.failures.join(' | '),
      executionsStarted: live.executionsStarted,
      filterEvaluations: live.filterEvaluations,
      'filter evaluations per alert': (live.filterEvaluations / live.alertsReceived).toFixed(1),
      'connecting the subscribers': `${live.subscribeSeconds.toFixed(1)} s`,
      'server CPU': `${live.serverCpuSeconds.toFixed(1)} s (${((live.serverCpuSeconds / live.liveSeconds) * 100).toFixed(0)}% of a core)`,
      'subscribers CPU': `${report.cpuSeconds.toFixed(1)} s`,
      'producer CPU': `${produced.cpuSeconds.toFixed(1)} s`,
      'server event-loop delay p99/max': `${ms(live.eventLoopP99Ms)} / ${ms(live.eventLoopMaxMs)}`,
      'machine busy': `${(live.machineBusy * 100).toFixed(0)}%`,
      'object query meanwhile (1 in flight)': `${live.objectDuringLive.count} requests, p50 ${ms(live.objectDuringLive.p50)}, p99 ${ms(live.objectDuringLive.p99)}, max ${ms(live.objectDuringLive.max)}: ${verdict(live.objectDuringLive.p99, 250)}`,
      'load average now': loadavg()[0]!.toFixed(1),
    },
  });
  return out;
}
