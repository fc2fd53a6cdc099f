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

/** One stream to replay: its topic and the message values, in order. */
export interface Replay {
  survey: 'ztf' | 'lsst';
  topic: string;
  payloads: Buffer[];
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

/** Every alert file under `dir` (or `dir` itself when it is a file), in a stable order. */
export async function listAlertFiles(dir: string): Promise<string[]> {
  if ((await stat(dir)).isFile()) return [dir];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.avro'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** The replays the config asks for, read into memory: replaying from memory keeps the rate off the disk. */
export async function loadReplays(config: SimulatorConfig): Promise<Replay[]> {
  const replays: Replay[] = [];
  if (config.survey !== 'lsst') {
    const files = await listAlertFiles(config.dir);
    if (files.length === 0) throw new Error(`no .avro alert files under ${config.dir}`);
    replays.push({
      survey: 'ztf',
      topic: config.topic,
      payloads: await Promise.all(files.map((f) => readFile(f))),
    });
  }
  if (config.survey !== 'ztf') {
    const schema = loadRubinSchema(config.rubinSchemaDir);
    const alerts = await readRubinParquet(config.rubinFile, { schema });
    replays.push({
      survey: 'lsst',
      topic: config.rubinTopic,
      payloads: rubinMessages(alerts, rubinSchemaId(schema.version), schema),
    });
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
  const queue = interleave(replays);
  const total = options.count > 0 ? options.count : options.loop ? Infinity : queue.length;
  logger.info(
    { streams: replays.map((r) => ({ survey: r.survey, topic: r.topic, alerts: r.payloads.length })), total },
    'simulator started',
  );

  const started = performance.now();
  let sent = 0;
  let lastProgress = started;
  while (sent < total && !signal.aborted) {
    const batchSize = batchSizeFor(options.rate, total - sent);
    const byTopic = new Map<string, Message[]>();
    for (let i = 0; i < batchSize; i++) {
      const { topic, payload } = queue[(sent + i) % queue.length]!;
      const list = byTopic.get(topic) ?? [];
      list.push({ value: payload });
      byTopic.set(topic, list);
    }
    await Promise.all([...byTopic].map(([topic, messages]) => sink.send(topic, messages)));
    sent += batchSize;

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

function interleave(replays: readonly Replay[]): { topic: string; payload: Buffer }[] {
  const queue: { topic: string; payload: Buffer }[] = [];
  const longest = Math.max(0, ...replays.map((r) => r.payloads.length));
  for (let i = 0; i < longest; i++) {
    for (const { topic, payloads } of replays) {
      const payload = payloads[i];
      if (payload !== undefined) queue.push({ topic, payload });
    }
  }
  return queue;
}

/** At a set rate, send in slices of about 50 ms worth of alerts; unlimited, in full batches. */
function batchSizeFor(rate: number, remaining: number): number {
  const size = rate > 0 ? Math.max(1, Math.round(rate / 20)) : MAX_BATCH;
  return Math.min(size, MAX_BATCH, remaining);
}
