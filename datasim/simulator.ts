// `fink start simulator`: replays a directory of alert files onto a Kafka topic, as the live stream sends them.
// ZTF sends one Avro container file (schema embedded) per message, so each file is one message value, unchanged.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Message } from 'kafkajs';
import type { SimulatorConfig } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';

export interface AlertSink {
  send(topic: string, messages: Message[]): Promise<void>;
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

export async function runSimulator(
  options: SimulatorConfig,
  sink: AlertSink,
  logger: Logger,
  signal: AbortSignal,
): Promise<SimulatorResult> {
  const files = await listAlertFiles(options.dir);
  if (files.length === 0) throw new Error(`no .avro alert files under ${options.dir}`);
  const total = options.count > 0 ? options.count : options.loop ? Infinity : files.length;
  // Files are read once and kept: replaying from memory keeps the rate independent of the disk.
  const payloads = await Promise.all(files.map((file) => readFile(file)));
  logger.info({ files: files.length, topic: options.topic, rate: options.rate, total }, 'simulator started');

  const started = performance.now();
  let sent = 0;
  let lastProgress = started;
  while (sent < total && !signal.aborted) {
    const batchSize = batchSizeFor(options.rate, total - sent);
    const messages: Message[] = [];
    for (let i = 0; i < batchSize; i++)
      messages.push({ value: payloads[(sent + i) % payloads.length] ?? null });
    await sink.send(options.topic, messages);
    sent += messages.length;

    const now = performance.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      const seconds = (now - started) / 1000;
      logger.info({ sent, alertsPerSecond: Math.round(sent / seconds) }, 'simulator progress');
    }
    if (options.rate > 0) {
      // Pace against the start time, not the previous send, so the average rate holds whatever a send costs.
      const due = started + (sent / options.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await delay(wait, undefined, { signal }).catch(() => undefined);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  logger.info({ sent, seconds: Number(seconds.toFixed(2)) }, 'simulator finished');
  return { sent, seconds };
}

/** At a set rate, send in slices of about 50 ms worth of alerts; unlimited, in full batches. */
function batchSizeFor(rate: number, remaining: number): number {
  const size = rate > 0 ? Math.max(1, Math.round(rate / 20)) : MAX_BATCH;
  return Math.min(size, MAX_BATCH, remaining);
}
