// The live part of `npm run bench graphql` runs its clients in processes of their own, started by
// bench/graphql.bench.ts with fork(), so that neither the WebSocket clients nor the Kafka producer take the
// server's event loop (the server runs in the benchmark's process; the latency measured is the server's).
//
//   graphql-live-client.ts producer <seed> <warmup> <measured> <filters>
//     Encodes warmup + measured science messages up front (liveMessages), picks the filters from their
//     distribution, computes how many measured alerts each filter selects (the server's own predicate), sends
//     { type: 'generated' }, then on { type: 'run', ... } produces them to the science topic at the rate asked
//     (warm-up first) and sends { type: 'produced' }.
//   graphql-live-client.ts subscribers
//     On { type: 'subscribe', ... } opens one graphql-ws client (its own WebSocket) per subscriber, subscribes
//     each to `liveAlerts(filter)`, sends { type: 'subscribed' } when every connection is acknowledged; on
//     { type: 'counts' } answers the deliveries so far per subscriber (the benchmark polls until each has what its
//     filter selects, or a deadline); { type: 'report' } sends the deliveries of measured alerts: counts per
//     subscriber and the latency from the science message's Kafka timestamp (`publishedAt`: when it was
//     produced, as raw2science does) to this process's receipt, same machine clock: the server's consumer lag
//     included.
import { createClient, type Client } from 'graphql-ws';
import type { Message } from 'kafkajs';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { compileFilterPredicate } from '../src/filters/predicate.ts';
import { validateFilter } from '../src/filters/validate.ts';
import { createLogger } from '../src/logger.ts';
import { CachingPartitioner, createKafka, sendInChunks } from '../src/pipeline/kafka.ts';
import { liveFilters, liveMessages, type AlertFilterInput } from './graphql-data.ts';

export interface LiveGenerated {
  type: 'generated';
  filters: AlertFilterInput[];
  /** Measured alerts each filter selects. */
  expected: number[];
  /** Ids of the warm-up alerts (deliveries of these are not measured). */
  warmupIds: string[];
  meanValueBytes: number;
  seconds: number;
}

export interface LiveRun {
  type: 'run';
  topic: string;
  rate: number;
}

export interface LiveProduced {
  type: 'produced';
  /** Start and end of the measured part [Unix ms]. */
  measuredFrom: number;
  measuredTo: number;
  sent: number;
  /** Ticks that started later than due by more than one tick (the producer could not keep the rate). */
  lateTicks: number;
  cpuSeconds: number;
}

export interface LiveSubscribe {
  type: 'subscribe';
  url: string;
  filters: AlertFilterInput[];
  perFilter: number;
  /** Subscriptions per WebSocket connection: subscriber s rides connection s mod (subscribers / perConnection). */
  perConnection: number;
  warmupIds: string[];
}

export interface LiveReport {
  type: 'report';
  /** Deliveries of measured alerts per subscriber, subscriber s watching filter floor(s / perFilter). */
  counts: number[];
  /** Latencies of every measured delivery [ms], from the science message's Kafka timestamp to the client. */
  latencyPercentiles: Percentiles;
  /** The same split at the server's Kafka receipt: Kafka timestamp to the server's receipt (its consumer lag)... */
  consumerLagPercentiles: Percentiles;
  /** ...and the server's receipt to the client (filters, execution, scheduling, WebSocket, the client's loop). */
  serverToClientPercentiles: Percentiles;
  deliveries: number;
  firstAt: number;
  lastAt: number;
  /** Subscriptions that errored or completed (a closed connection, a refused filter). */
  failures: string[];
  cpuSeconds: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export type LiveChildMessage =
  | LiveGenerated
  | LiveProduced
  | { type: 'subscribed'; seconds: number }
  | { type: 'counts'; counts: number[] }
  | LiveReport;
export type LiveParentMessage = LiveRun | LiveSubscribe | { type: 'counts' } | { type: 'report' };

const LIVE_QUERY = `subscription Live($filter: AlertFilter) {
  liveAlerts(filter: $filter) { publishedAt receivedAt alert { alertId mag band } }
}`;
/** Producer tick: 10 alerts per tick at 1,000/s, so that alerts arrive spread as a stream delivers them. */
const TICK_MS = 10;

function send(message: LiveChildMessage, then?: () => void): void {
  if (process.send === undefined) throw new Error('graphql-live-client.ts runs under fork() only');
  process.send(message, undefined, {}, () => then?.());
}

function onMessage(handler: (message: LiveParentMessage) => void | Promise<void>): void {
  process.on('message', (message: LiveParentMessage) => {
    void Promise.resolve(handler(message)).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function runProducer(
  seed: number,
  warmup: number,
  measured: number,
  filterCount: number,
): Promise<void> {
  const started = performance.now();
  const messages = [...liveMessages(seed, warmup + measured)];
  const config = loadConfig();
  const filters = liveFilters(
    messages.map((m) => m.record),
    filterCount,
    seed,
  );
  const predicates = filters.map((filter) =>
    compileFilterPredicate(validateFilter(filter, 'filter', config.server)),
  );
  const expected = predicates.map(
    (matches) => messages.slice(warmup).filter((message) => matches(message.record)).length,
  );
  send({
    type: 'generated',
    filters,
    expected,
    warmupIds: messages.slice(0, warmup).map((m) => m.alertId),
    meanValueBytes: messages.reduce((sum, m) => sum + m.value.length, 0) / messages.length,
    seconds: (performance.now() - started) / 1000,
  });

  const logger = createLogger({ level: 'warn' }).child({ module: 'bench-graphql-producer' });
  const kafka = createKafka(config.kafka, logger, 'bench-graphql-producer');
  const producer = kafka.producer({ createPartitioner: CachingPartitioner, idempotent: false });
  await producer.connect();
  onMessage(async (message) => {
    if (message.type !== 'run') return;
    const paced = async (batch: typeof messages): Promise<{ from: number; to: number; late: number }> => {
      const from = Date.now();
      const t0 = performance.now();
      let sent = 0;
      let late = 0;
      let tick = 0;
      while (sent < batch.length) {
        const due = Math.min(batch.length, Math.ceil((message.rate * (performance.now() - t0)) / 1000));
        const out: Message[] = batch.slice(sent, due).map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers,
        }));
        if (out.length > 0) {
          await sendInChunks(producer, message.topic, out, config.kafka.maxRequestBytes);
          sent = due;
        }
        tick++;
        const wait = t0 + tick * TICK_MS - performance.now();
        if (wait < -TICK_MS) late++;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      return { from, to: Date.now(), late };
    };
    await paced(messages.slice(0, warmup));
    const cpuBefore = cpuSeconds();
    const run = await paced(messages.slice(warmup));
    send({
      type: 'produced',
      measuredFrom: run.from,
      measuredTo: run.to,
      sent: measured,
      lateTicks: run.late,
      cpuSeconds: cpuSeconds() - cpuBefore,
    });
    await producer.disconnect();
  });
}

interface LiveResult {
  publishedAt: number;
  receivedAt: number;
  alert: { alertId: string };
}

/** A subscription's end as text: graphql-ws hands over the WebSocket's close event (code and reason) or errors. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  const close = error as { code?: unknown; reason?: unknown };
  if (typeof close.code === 'number') {
    return `closed ${close.code} ${typeof close.reason === 'string' ? close.reason : ''}`.trim();
  }
  return JSON.stringify(error);
}

/** A growing list of measurements [ms] and its percentiles. */
class Samples {
  private values = new Float64Array(1 << 20);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }

  percentiles(): Percentiles {
    const n = this.count;
    const sorted = this.values.slice(0, n).sort();
    const at = (p: number) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]!);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
  }
}

function runSubscribers(): void {
  const clients: Client[] = [];
  onMessage(async (message) => {
    if (message.type === 'subscribe') await subscribe(message);
    else if (message.type === 'counts') send({ type: 'counts', counts });
    else if (message.type === 'report') report();
  });

  let counts: number[] = [];
  const latencies = new Samples();
  const consumerLags = new Samples();
  const serverToClient = new Samples();
  let firstAt = Infinity;
  let lastAt = 0;
  const failures: string[] = [];
  let cpuAtStart = 0;

  async function subscribe({
    url,
    filters,
    perFilter,
    perConnection,
    warmupIds,
  }: LiveSubscribe): Promise<void> {
    const started = performance.now();
    cpuAtStart = cpuSeconds();
    const warmup = new Set(warmupIds);
    const total = filters.length * perFilter;
    const connections = Math.ceil(total / perConnection);
    counts = new Array<number>(total).fill(0);
    let connected = 0;
    const allConnected = new Promise<void>((resolve) => {
      for (let c = 0; c < connections; c++) {
        clients.push(
          createClient({
            url,
            webSocketImpl: WebSocket,
            retryAttempts: 0,
            on: {
              connected: () => {
                if (++connected === connections) resolve();
              },
            },
          }),
        );
      }
      for (let s = 0; s < total; s++) {
        const filter = filters[Math.floor(s / perFilter)]!;
        const client = clients[s % connections]!;
        client.subscribe<{ liveAlerts: LiveResult }>(
          { query: LIVE_QUERY, variables: { filter } },
          {
            next: (result) => {
              const now = Date.now();
              const live = result.data?.liveAlerts;
              if (live === undefined) {
                failures.push(`subscriber ${s}: ${JSON.stringify(result.errors ?? result)}`);
                return;
              }
              if (warmup.has(live.alert.alertId)) return;
              counts[s]!++;
              latencies.add(now - live.publishedAt);
              consumerLags.add(live.receivedAt - live.publishedAt);
              serverToClient.add(now - live.receivedAt);
              if (now < firstAt) firstAt = now;
              lastAt = now;
            },
            error: (error) => failures.push(`subscriber ${s}: ${describeError(error)}`),
            complete: () => failures.push(`subscriber ${s}: completed`),
          },
        );
      }
    });
    await allConnected;
    send({ type: 'subscribed', seconds: (performance.now() - started) / 1000 });
  }

  function report(): void {
    for (const client of clients) void client.dispose();
    send(
      {
        type: 'report',
        counts,
        latencyPercentiles: latencies.percentiles(),
        consumerLagPercentiles: consumerLags.percentiles(),
        serverToClientPercentiles: serverToClient.percentiles(),
        deliveries: latencies.size,
        firstAt,
        lastAt,
        failures: failures.slice(0, 20),
        cpuSeconds: cpuSeconds() - cpuAtStart,
      },
      () => process.exit(0),
    );
  }
}

const [role, ...args] = process.argv.slice(2);
if (role === 'producer') {
  const [seed, warmup, measured, filters] = args.map(Number);
  await runProducer(seed!, warmup!, measured!, filters!);
} else if (role === 'subscribers') {
  runSubscribers();
} else {
  throw new Error(
    `usage: graphql-live-client.ts producer <seed> <warmup> <measured> <filters> | subscribers`,
  );
}
