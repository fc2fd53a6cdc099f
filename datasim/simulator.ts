// `fink start simulator`: replays alerts onto Kafka as the live streams send them. ZTF sends one Avro container
// file (schema embedded) per message, so each file is one message value, unchanged; Rubin sends Confluent wire
// format (0x00, schema id, schemaless Avro), so the Parquet alerts are encoded that way.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Message } from 'kafkajs';
import type { SimulatorConfig } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { loadRubinSchema, rubinSchemaId } from '../src/pipeline/decode/rubin-avro.ts';
import { readRubinParquet, rubinMessages } from './rubin.ts';

export interface AlertSink {
  send(topic: string, messages: Message[]): Promise<void>;
}

/**
 * One stream to replay: its topic and its alerts in order. A directory replay reads its files as they are sent,
 * a few at a time: a night of alerts (hundreds of thousands of files) neither exhausts the open-file limit nor
 * has to fit in memory.
 */
export interface Replay {
  survey: 'ztf' | 'lsst';
  topic: string;
  /** Alerts in one pass. */
  size: number;
  /** The message values of the alerts at these indexes (each below `size`), in that order. */
  read(indexes: readonly number[]): Promise<Buffer[]>;
}

export interface ReplayOptions {
  /** Alerts per second over all replays; 0 sends as fast as the broker takes them. */
  rate: number;
  /** Alerts to send in all; 0 means every payload once (or forever with loop). */
  count: number;
  loop: boolean;
}

export interface SimulatorResult {
  sent: number;
  seconds: number;
}

/** Largest batch handed to the producer at once when the rate is unlimited. */
const MAX_BATCH = 200;
const PROGRESS_EVERY_MS = 1_000;
/** Files read at once: far below any open-file limit, enough to keep a disk busy. */
const READ_CONCURRENCY = 16;

/** Every alert file under `dir` (or `dir` itself when it is a file), in a stable order. */
export async function listAlertFiles(dir: string): Promise<string[]> {
  if ((await stat(dir)).isFile()) return [dir];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.avro'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** A replay of alert files, read when sent. */
export function fileReplay(survey: Replay['survey'], topic: string, files: readonly string[]): Replay {
  return {
    survey,
    topic,
    size: files.length,
    read: (indexes) => mapConcurrently(indexes, READ_CONCURRENCY, (i) => readFile(files[i]!)),
  };
}

/** A replay of messages already in memory. */
export function memoryReplay(survey: Replay['survey'], topic: string, payloads: readonly Buffer[]): Replay {
  return {
    survey,
    topic,
    size: payloads.length,
    read: (indexes) => Promise.resolve(indexes.map((i) => payloads[i]!)),
  };
}

/** The replays the config asks for: ZTF files are listed now and read as they are sent. */
export async function loadReplays(config: SimulatorConfig): Promise<Replay[]> {
  const replays: Replay[] = [];
  if (config.survey !== 'lsst') {
    const files = await listAlertFiles(config.dir);
    if (files.length === 0) throw new Error(`no .avro alert files under ${config.dir}`);
    replays.push(fileReplay('ztf', config.topic, files));
  }
  if (config.survey !== 'ztf') {
    // Tens of alerts in one Parquet file: encoded once, kept in memory.
    const schema = loadRubinSchema(config.rubinSchemaDir);
    const alerts = await readRubinParquet(config.rubinFile, { schema });
    replays.push(
      memoryReplay('lsst', config.rubinTopic, rubinMessages(alerts, rubinSchemaId(schema.version), schema)),
    );
  }
  return replays;
}

/** Sends the replays interleaved (one alert of each in turn), paced to `rate`, until `count` or the end. */
export async function runSimulator(
  replays: readonly Replay[],
  options: ReplayOptions,
  sink: AlertSink,
  logger: Logger,
  signal: AbortSignal,
): Promise<SimulatorResult> {
  const order = interleave(replays);
  const total = options.count > 0 ? options.count : options.loop ? Infinity : order.length;
  logger.info(
    { streams: replays.map((r) => ({ survey: r.survey, topic: r.topic, alerts: r.size })), total },
    'simulator started',
  );
  if (order.length === 0) return { sent: 0, seconds: 0 };

  const started = performance.now();
  let sent = 0;
  let lastProgress = started;
  // The next batch is read while the current one is sent: the files stay off the critical path.
  let next = total > 0 ? readBatch(replays, order, 0, batchSizeFor(options.rate, total)) : undefined;
  while (next !== undefined && !signal.aborted) {
    const batch = await next;
    const after = sent + batch.size;
    next =
      after < total ? readBatch(replays, order, after, batchSizeFor(options.rate, total - after)) : undefined;
    // Not awaited when the loop ends early (stopped): keep a failed read from being unhandled.
    next?.catch(() => undefined);
    await Promise.all([...batch.byTopic].map(([topic, messages]) => sink.send(topic, messages)));
    sent = after;

    const now = performance.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      const seconds = (now - started) / 1000;
      logger.info({ sent, alertsPerSecond: Math.round(sent / seconds) }, 'simulator progress');
    }
    if (options.rate > 0) {
      // Pace against the start time, not the previous send, so the average rate holds whatever a send costs.
      const wait = started + (sent / options.rate) * 1000 - performance.now();
      if (wait > 0) await delay(wait, undefined, { signal }).catch(() => undefined);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  logger.info({ sent, seconds: Number(seconds.toFixed(2)) }, 'simulator finished');
  return { sent, seconds };
}

/** Position i of one pass: replay `replay[i]`, its alert `index[i]`. */
interface Order {
  length: number;
  replay: Uint8Array;
  index: Uint32Array;
}

/** One alert of each replay in turn, as long as each has alerts left. */
function interleave(replays: readonly Replay[]): Order {
  const length = replays.reduce((sum, r) => sum + r.size, 0);
  const order: Order = { length, replay: new Uint8Array(length), index: new Uint32Array(length) };
  const longest = Math.max(0, ...replays.map((r) => r.size));
  let at = 0;
  for (let i = 0; i < longest; i++) {
    replays.forEach((replay, r) => {
      if (i >= replay.size) return;
      order.replay[at] = r;
      order.index[at] = i;
      at++;
    });
  }
  return order;
}

/** The messages at positions from..from+size of the endless sequence of passes, grouped by topic. */
async function readBatch(
  replays: readonly Replay[],
  order: Order,
  from: number,
  size: number,
): Promise<{ size: number; byTopic: Map<string, Message[]> }> {
  const wanted = replays.map((): number[] => []);
  for (let k = 0; k < size; k++) {
    const at = (from + k) % order.length;
    wanted[order.replay[at]!]!.push(order.index[at]!);
  }
  const read = await Promise.all(replays.map((replay, r) => replay.read(wanted[r]!)));
  const byTopic = new Map<string, Message[]>();
  // In the interleaved order again, each replay's values consumed in turn.
  const cursors = replays.map(() => 0);
  for (let k = 0; k < size; k++) {
    const r = order.replay[(from + k) % order.length]!;
    const value = read[r]![cursors[r]!++]!;
    const topic = replays[r]!.topic;
    const list = byTopic.get(topic) ?? [];
    list.push({ value });
    byTopic.set(topic, list);
  }
  return { size, byTopic };
}

/** `work` over `items` with at most `concurrency` running at once; results in the order of `items`. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextItem = 0;
  const worker = async (): Promise<void> => {
    while (nextItem < items.length) {
      const i = nextItem++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** At a set rate, send in slices of about 50 ms worth of alerts; unlimited, in full batches. */
function batchSizeFor(rate: number, remaining: number): number {
  const size = rate > 0 ? Math.max(1, Math.round(rate / 20)) : MAX_BATCH;
  return Math.min(size, MAX_BATCH, remaining);
}
