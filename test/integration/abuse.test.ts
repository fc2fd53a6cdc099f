// The server under abuse, as an adversary would try it: a real server process (`fink run server`, so its RSS is
// its own) on a database the real pipeline filled from the 611 real ZTF alerts, live alerts replayed onto its
// science topic, and load from child processes (test/helpers/load-client.ts), each on its own loopback
// address. Meanwhile this process asks `object(objectId)` one request at a time and records each latency.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { ensureTopics } from '../../src/pipeline/kafka.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { freePort, uniqueName } from '../helpers/context.ts';
import { testKafka } from '../helpers/kafka.ts';
import type { LoadMessage, LoadReport, LoadRole } from '../helpers/load-client.ts';
import { createPipelineSandbox, readAll, type PipelineSandbox } from '../helpers/pipeline.ts';
import { killServiceProcesses, startServiceProcess, type ServiceProcess } from '../helpers/processes.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

const LOAD_CLIENT = new URL('../helpers/load-client.ts', import.meta.url).pathname;
/**
 * A plain query from another client is starved when it waits behind the abuse: before the server shed load, its
 * p99 was 4.3 s (p50 1.4 s) under the fan-out alone. Tests never time anything finely: the 250 ms p99
 * target is a measured figure (printed here for each situation, kept in BENCHMARKS.md), and this bound only tells
 * a starved server from a busy one on a shared 2-core machine (CI measured 278 ms once with everything at once).
 */
const STARVED_P99_MS = 1_000;
/** The target for the p99, printed next to each measurement. */
const P99_TARGET_MS = 250;

/** The priority of the request loops (19: the lowest). */
const LOAD_NICE = Number(process.env.ABUSE_LOAD_NICE ?? 19);

let pipeline: PipelineSandbox;
let server: ServiceProcess;
let config: Config;
let url: string;
let objectIds: string[];
const children: ChildProcess[] = [];

beforeAll(async () => {
  pipeline = await createPipelineSandbox('abuse');
  const payloads = readAll(ztfAlertFiles());
  await pipeline.start('raw2science');
  await pipeline.publish(payloads);
  // Every alert passing the quality cuts stored (about 570 of the 611): the count stops growing.
  let last = -1;
  let steady = 0;
  await waitFor(async () => {
    const [row] = await queryRows<{ n: string }>(
      pipeline.db.client,
      sql`SELECT count() AS n FROM alerts FINAL`,
    );
    const n = Number(row?.n);
    steady = n === last && n > 500 ? steady + 1 : 0;
    last = n;
    return steady >= 5;
  }, 120_000);
  const rows = await queryRows<{ object_id: string }>(
    pipeline.db.client,
    sql`SELECT object_id FROM objects FINAL ORDER BY object_id`,
  );
  objectIds = rows.map((row) => row.object_id);
  const liveTopic = uniqueName('abuse_live');
  await ensureTopics(testKafka(), [liveTopic], 1);
  const port = await freePort();
  config = {
    ...pipeline.config,
    // Warnings logged: the test reads the server's word that it disconnected a slow consumer.
    log: { ...pipeline.config.log, level: 'warn' },
    pipeline: { ...pipeline.config.pipeline, scienceTopic: liveTopic },
    server: {
      ...pipeline.config.server,
      port,
      followupTopic: uniqueName('abuse_followups'),
      maxHeapMb: HEAP_MB,
    },
  };
  url = `http://127.0.0.1:${port}`;
  server = startServiceProcess('server', config);
  await server.waitReady();
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await killServiceProcesses();
  await pipeline?.stop();
});

interface Load {
  child: ChildProcess;
  ready: Promise<Record<string, number>>;
  report(): Promise<LoadReport>;
  stop(): Promise<void>;
}

function startLoad(role: LoadRole): Load {
  const child = fork(LOAD_CLIENT, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  // The request loops send again the moment an answer comes, as fast as their CPU lets them: on this one machine
  // they would take the cores from the server and ClickHouse, measuring the OS scheduler, not the server. An
  // adversary runs on its own machine; here its processes yield the CPU to everything else (ABUSE_LOAD_NICE=0
  // runs them at normal priority).
  if (role.type === 'requests' && child.pid !== undefined) setPriority(child.pid, LOAD_NICE);
  const next = <T extends LoadMessage['type']>(type: T) =>
    new Promise<Extract<LoadMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: LoadMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as Extract<LoadMessage, { type: T }>);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`load client ${role.type} exited with ${code}`)));
    });
  const ready = next('ready').then((message) => message.counts);
  child.send(role);
  return {
    child,
    ready,
    report: () => {
      const report = next('report');
      child.send({ type: 'report' });
      return report;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

const OBJECT_QUERY = `query($id: String!) { object(objectId: $id) { objectId label mag lastJd } }`;
/** Samples of the measured query per situation, and the longest a measurement runs. */
const SAMPLES = 400;
const MEASURE_MS = 30_000;

interface LatencyFigures {
  n: number;
  p50: number;
  p99: number;
  max: number;
  failures: string[];
}

/** `object(objectId)` one request at a time from this process (127.0.0.1): SAMPLES of them, or MEASURE_MS. */
async function measureObjectQueries(): Promise<LatencyFigures> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const end = performance.now() + MEASURE_MS;
  for (let i = 0; i < SAMPLES && performance.now() < end; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: OBJECT_QUERY, variables: { id: objectIds[i % objectIds.length] } }),
    });
    const body = (await response.json()) as { data?: { object: unknown }; errors?: unknown[] };
    latencies.push(performance.now() - started);
    if (response.status !== 200 || body.errors !== undefined || body.data?.object == null) {
      failures.push(`${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1), failures };
}

function sumCounts(reports: LoadReport[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const report of reports) {
    for (const [name, n] of Object.entries(report.counts)) sum[name] = (sum[name] ?? 0) + n;
  }
  return sum;
}

/** The server's RSS: `fink run server` is the leader of its process group, the server itself. */
function serverRss(): number {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

const MiB = 2 ** 20;
/** The server's configured heap (server.maxHeapMb), and the bound on its RSS: the heap plus native memory. */
const HEAP_MB = 384;
const RSS_BOUND_BYTES = (HEAP_MB + 256) * MiB;

interface Outcome {
  latency: LatencyFigures;
  counts: Record<string, number>;
  maxRss: number;
}

const outcomes: Record<string, Outcome> = {};

/**
 * Runs the loads, measures the object query meanwhile, then (the loads still running) waits for `until` if given,
 * and stops them; the figures are logged and kept.
 */
async function underLoad(name: string, roles: LoadRole[], until?: () => boolean): Promise<Outcome> {
  const loads = roles.map(startLoad);
  await Promise.all(loads.map((load) => load.ready));
  let maxRss = serverRss();
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, serverRss())), 200);
  const latency = await measureObjectQueries();
  try {
    if (until !== undefined) await waitFor(until, 60_000, 200);
  } finally {
    clearInterval(sampler);
  }
  const counts = sumCounts(await Promise.all(loads.map((load) => load.report())));
  await Promise.all(loads.map((load) => load.stop()));
  const outcome = { latency, counts, maxRss };
  outcomes[name] = outcome;
  console.log(
    `${name}: object p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms ` +
      `(${latency.n} requests, ${latency.failures.length} failed; p99 target ${P99_TARGET_MS} ms: ` +
      `${latency.p99 <= P99_TARGET_MS ? 'met' : 'missed'}); server RSS max ${(maxRss / MiB).toFixed(0)} MiB; ` +
      `load ${JSON.stringify(counts)}`,
  );
  return outcome;
}

const wsUrl = () => `${url.replace(/^http/, 'ws')}/graphql`;

const LIVE = `subscription($f: AlertFilter) {
  liveAlerts(filter: $f) { receivedAt alert { alertId objectId jd band mag magErr label ra dec ndet rising } } }`;
/**
 * What a slow reader asks for: every alert with its whole candidate record three times (~10 KB each), so that
 * its unread results outgrow the socket buffers within seconds even when a loaded machine replays slowly.
 */
const LIVE_HEAVY = `subscription { liveAlerts { receivedAt alert { alertId objectId candidate features
  c2: candidate c3: candidate } } }`;
const FILTERS: Record<string, unknown>[] = [
  {},
  { band: ['g'] },
  { band: ['r'] },
  { mag: { max: 18 } },
  { mag: { max: 19 } },
  { mag: { max: 20 } },
  { mag: { min: 17 } },
  { band: ['g'], mag: { max: 19 } },
  { band: ['r'], mag: { max: 19 } },
  { label: ['Unknown'] },
  { label: ['Solar System MPC'] },
  { rising: true },
  { rising: false },
  { roid: [0] },
  { roid: [3] },
  { or: [{ band: ['g'] }, { mag: { max: 18 } }] },
  { not: { band: ['g'] } },
  { sinceFirstDetectionDays: { max: 10 } },
  { compare: [{ field: 'NDET', op: 'GTE', value: 2 }] },
  { survey: ['ztf'] },
];

const body = (query: string) => JSON.stringify({ query });
const searchBomb = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: search(filter: {}, first: 500) { items { alertId candidate } }`).join(' ')} }`;
const coneBomb = `{ ${Array.from({ length: 1000 }, (_, i) => `c${i}: coneSearch(ra: 150, dec: 2, radiusArcsec: 3600, first: 500) { distanceArcsec object { objectId } }`).join(' ')} }`;
/** 10 fragments, each spreading the next under 10 aliases: 10^10 fields if expanded. */
const fragmentFanOut = (id: string) => {
  const levels = Array.from({ length: 10 }, (_, level) => {
    const inner =
      level === 9
        ? 'objectId'
        : Array.from({ length: 10 }, (_, k) => `a${k}: alerts { object { ...F${level + 1} } }`).join(' ');
    return `fragment F${level} on AstroObject { ${inner} }`;
  });
  return `{ object(objectId: ${JSON.stringify(id)}) { ...F0 } } ${levels.join(' ')}`;
};

const producerRole = (): LoadRole => ({
  type: 'producer',
  fromTopic: pipeline.config.pipeline.scienceTopic,
  toTopic: config.pipeline.scienceTopic,
  rate: 100,
});

describe('a plain query from another client while the server is abused', () => {
  it('idle server (reference)', async () => {
    const { latency } = await underLoad('idle', []);
    expect(latency.failures).toEqual([]);
  });

  it('200 connections x 20 subscriptions receiving 100 alerts/s: plain queries not starved, slow subscribers shed', async () => {
    // 4 processes of 50 connections, each from its own address.
    const subscribers = [2, 3, 4, 5].map((host): LoadRole => ({
      type: 'subscribers',
      url: wsUrl(),
      localAddress: `127.0.0.${host}`,
      connections: 50,
      queries: FILTERS.map((f) => ({ query: LIVE, variables: { f } })),
    }));
    const { latency, counts, maxRss } = await underLoad('fan-out', [...subscribers, producerRole()]);
    expect(counts.connected).toBe(200);
    expect(counts.deliveries ?? 0).toBeGreaterThan(10_000);
    expect(latency.failures).toEqual([]);
    expect(latency.p99).toBeLessThan(STARVED_P99_MS);
    expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
  });

  it('alias bombs and fragment fan-outs are refused before they run', async () => {
    const { latency, counts, maxRss } = await underLoad('bombs', [
      {
        type: 'requests',
        url: `${url}/graphql`,
        localAddress: '127.0.0.6',
        concurrency: 2,
        bodies: [{ name: 'search x1000', body: body(searchBomb) }],
      },
      {
        type: 'requests',
        url: `${url}/graphql`,
        localAddress: '127.0.0.7',
        concurrency: 2,
        bodies: [{ name: 'cone x1000', body: body(coneBomb) }],
      },
      {
        type: 'requests',
        url: `${url}/graphql`,
        localAddress: '127.0.0.8',
        concurrency: 2,
        bodies: [{ name: 'fragments', body: body(fragmentFanOut(objectIds[0]!)) }],
      },
    ]);
    for (const name of ['search x1000', 'cone x1000', 'fragments']) {
      expect(counts[`${name} 200`] ?? 0).toBe(0);
      // Refused before running (400: too many tokens, too costly, too deep), or by the rate limit once the client
      // insists (429).
      expect((counts[`${name} 400`] ?? 0) + (counts[`${name} 429`] ?? 0)).toBeGreaterThan(10);
      expect(counts[`${name} 400`]).toBe(
        (counts[`${name} GRAPHQL_PARSE_FAILED`] ?? 0) + (counts[`${name} GRAPHQL_VALIDATION_FAILED`] ?? 0),
      );
    }
    expect(latency.failures).toEqual([]);
    expect(latency.p99).toBeLessThan(STARVED_P99_MS);
    expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
  });

  it('a 1,000-connection WebSocket flood is held to the per-address limit, a slow reader is cut off', async () => {
    // The slow reader is cut off once its oldest result waited server.liveMaxLagMs (5 s): the load runs until
    // the server says so, however quickly the object queries were measured.
    const slowDisconnected = () =>
      server.logged('slow consumer disconnected').some((line) => String(line.address).endsWith('127.0.0.10'));
    const { latency, counts, maxRss } = await underLoad(
      'flood + slow reader',
      [
        { type: 'flood', url: wsUrl(), localAddress: '127.0.0.9', connections: 1000 },
        { type: 'slow', url: wsUrl(), localAddress: '127.0.0.10', query: LIVE_HEAVY },
        producerRole(),
      ],
      slowDisconnected,
    );
    expect(counts.opened).toBe(config.server.maxConnectionsPerAddress);
    expect(counts['refused 429']).toBe(1000 - config.server.maxConnectionsPerAddress);
    expect(counts['closed 4429']).toBe(1);
    expect(latency.failures).toEqual([]);
    expect(latency.p99).toBeLessThan(STARVED_P99_MS);
    expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
  });

  it('everything at once; afterwards the server RSS returns near its baseline', async () => {
    const baseline = outcomes.idle?.maxRss ?? serverRss();
    const { latency, maxRss } = await underLoad('all at once', [
      ...[2, 3, 4, 5].map((host): LoadRole => ({
        type: 'subscribers',
        url: wsUrl(),
        localAddress: `127.0.0.${host}`,
        connections: 50,
        queries: FILTERS.map((f) => ({ query: LIVE, variables: { f } })),
      })),
      {
        type: 'requests',
        url: `${url}/graphql`,
        localAddress: '127.0.0.6',
        concurrency: 2,
        bodies: [
          { name: 'search x1000', body: body(searchBomb) },
          { name: 'cone x1000', body: body(coneBomb) },
          { name: 'fragments', body: body(fragmentFanOut(objectIds[0]!)) },
        ],
      },
      { type: 'flood', url: wsUrl(), localAddress: '127.0.0.9', connections: 1000 },
      { type: 'slow', url: wsUrl(), localAddress: '127.0.0.10', query: LIVE_HEAVY },
      producerRole(),
    ]);
    expect(latency.failures).toEqual([]);
    expect(latency.p99).toBeLessThan(STARVED_P99_MS);
    expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
    // Garbage collected and given back: within 100 MiB of where the idle server was.
    let now = serverRss();
    await waitFor(() => (now = serverRss()) < baseline + 100 * MiB, 60_000, 500).catch(() => undefined);
    console.log(
      `server RSS: idle ${(baseline / MiB).toFixed(0)} MiB, max ${(maxRss / MiB).toFixed(0)} MiB, after ${(now / MiB).toFixed(0)} MiB`,
    );
    expect(now).toBeLessThan(baseline + 100 * MiB);
  }, 300_000);
});
