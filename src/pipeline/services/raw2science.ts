// raw2science: decodes, enriches (bounds, quality cuts, roid, cross-match, light-curve features, classification),
// computes each stored alert's one record (toScienceRecord), writes the science tables from it, then publishes it
// to the science topic (the live feed and distribution's input): the record alone, compact Avro, no cutouts and no
// schema. Offsets are committed by the source only after both are acknowledged.
//
// No message stops it: a message that does not decode is skipped (stream2raw, which reads the same stream,
// dead-letters it: once), an alert a stage rejects or throws for is dead-lettered with the stage and the reason,
// a classifier failing on one alert leaves a null score (counted), a cutout that is not a readable FITS image is
// counted (the alert is stored all the same), and an alert whose rows the tables refuse is
// found by writing halves of the batch and dead-lettered. Only infrastructure (Kafka, ClickHouse) stops it.
import type { Producer } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { ScienceStore } from '../../storage/science-store.ts';
import type { Alert } from '../alert.ts';
import type { AlertDecoder } from '../decode/alert-decoder.ts';
import { encodeScienceRecord } from '../encode/science-record.ts';
import { isInfrastructureError, retry, type Pipeline } from '../framework.ts';
import { retryKafka, sendInChunks } from '../kafka.ts';
import type { DeadLetter, DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler } from '../sources/kafka-batch-source.ts';
import type { RecordWatchlistHits } from '../watchlist-hits.ts';
import { unreadableCutouts, type CutoutCheck } from '../cutout-check.ts';
import { decodeBatch } from './decode-batch.ts';
import { SURVEY_HEADER } from './distribution.ts';
import { toStoredAlert, type EnrichedAlert, type ProcessedAlert } from './science-rows.ts';

export interface Raw2ScienceDeps {
  decoder: AlertDecoder;
  pipeline: Pipeline<Alert, EnrichedAlert>;
  store: ScienceStore;
  producer: Producer;
  scienceTopic: string;
  /** Produce requests are split to stay under this size. */
  maxRequestBytes: number;
  deadLetters: DeadLetterSink;
  /** Writes watchlist_hits and publishes their events (src/pipeline/watchlist-hits.ts). */
  recordWatchlistHits: RecordWatchlistHits;
  brokerVersion: string;
  /** How far each stored cutout is read to count the unreadable ones (pipeline.cutoutCheck). */
  cutoutCheck: CutoutCheck;
  metrics: PipelineMetrics;
  logger: Logger;
  signal: AbortSignal;
}

export function createRaw2ScienceHandler(deps: Raw2ScienceDeps): BatchHandler {
  const {
    decoder,
    pipeline,
    store,
    producer,
    scienceTopic,
    maxRequestBytes,
    deadLetters,
    recordWatchlistHits,
    cutoutCheck,
    metrics,
    logger,
    signal,
  } = deps;
  const onRetry = (target: string) => (error: unknown, attempt: number, delayMs: number) => {
    metrics.retries.inc({ target });
    logger.warn({ err: error, attempt, delayMs, target }, 'write failed; retrying');
  };

  return async function raw2science(messages) {
    const started = performance.now();
    for (const message of messages) metrics.received.inc({ topic: message.topic });
    const { decoded, letters: undecodable } = await decodeBatch(decoder, messages, {
      signal,
      onRetry: onRetry('schema-registry'),
    });
    // stream2raw dead-letters these (it reads the same stream): each bad message is dead-lettered once.
    for (const { reason } of undecodable) metrics.skipped.inc({ reason });
    const letters: DeadLetter[] = [];

    // Stages read ClickHouse too (the cross-match): an outage there is waited out like one on the write.
    const alerts = decoded.map((d) => d.alert);
    const results = await retry(() => pipeline.run(alerts), { signal, onRetry: onRetry('clickhouse') });
    const processed: ProcessedAlert[] = [];
    let dropped = 0;
    results.forEach((result, i) => {
      const { message } = decoded[i]!;
      if (result.kind === 'ok') {
        processed.push({ alert: result.value, message });
      } else if (result.kind === 'drop') {
        dropped++;
        metrics.dropped.inc({ step: result.step ?? '', reason: result.reason });
      } else {
        const letter: DeadLetter = { message, reason: result.reason, error: result.error };
        if (result.step !== undefined) letter.step = result.step;
        letters.push(letter);
      }
    });
    for (const { alert } of processed) {
      for (const { classifier, reason } of alert.classification.failures ?? []) {
        metrics.classifierFailures.inc({ classifier, reason });
      }
    }

    const processedAt = new Date();
    const storedAlerts = new Map(
      processed.map((item) => [item, toStoredAlert(item, processedAt, deps.brokerVersion)]),
    );
    const refused = await writeIsolating(processed, (part) =>
      retry(() => store.write(part.map((item) => storedAlerts.get(item)!)), {
        signal,
        onRetry: onRetry('clickhouse'),
      }),
    );
    for (const { item, error } of refused) {
      letters.push({ message: item.message, reason: 'storage-refused', step: 'store', error });
    }
    const refusedItems = new Set(refused.map(({ item }) => item));
    const stored = processed.filter((item) => !refusedItems.has(item));
    // After the science tables (a hit's alert is readable when its event arrives), before the offsets commit.
    const hits = await retry(
      () => recordWatchlistHits(stored.map(({ alert }) => alert)),
      retryKafka({ signal, onRetry: onRetry('watchlist-hits') }),
    );

    const science = stored.map((item) => {
      const { record } = storedAlerts.get(item)!;
      return encodeScienceRecord(record, { [SURVEY_HEADER]: record.survey });
    });
    // Each produce request retried on its own: one that went through is not sent twice.
    const kafkaRetry = retryKafka({ signal, onRetry: onRetry('kafka') });
    await sendInChunks(producer, scienceTopic, science, maxRequestBytes, kafkaRetry);
    await retry(() => deadLetters.send(letters), kafkaRetry);

    const now = Date.now();
    for (const letter of letters) metrics.deadLetters.inc({ reason: letter.reason });
    metrics.written.inc({ table: 'alerts' }, stored.length);
    metrics.written.inc(
      { table: 'lightcurve' },
      sum(stored, ({ alert }) => alert.points.length),
    );
    metrics.written.inc({ table: 'watchlist_hits' }, hits);
    // Checked on what was stored (its cutouts are served from the archive), after the writes: a corrupt stamp
    // never holds an alert back.
    let unreadable = 0;
    for (const { alert } of stored) {
      for (const { kind } of unreadableCutouts(alert.cutouts, cutoutCheck)) {
        metrics.cutoutsUnreadable.inc({ kind });
        unreadable++;
      }
    }
    metrics.published.inc({ topic: scienceTopic }, science.length);
    for (const { message } of stored) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info(
      {
        received: messages.length,
        stored: stored.length,
        dropped,
        deadLetters: letters.length,
        skipped: undecodable.length,
        unreadableCutouts: unreadable,
      },
      'batch processed',
    );
  };
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}

/**
 * Writes `items`; when the write fails for a reason that is not retriable (a value a column cannot hold, which
 * the bounds stage should have caught), writes halves of them, down to single alerts, and returns the alerts
 * refused alone with the error. Writes are idempotent: rows written twice on this path are stored once. When
 * every alert is refused alone and the error is the storage's (a missing table), the failure is not the
 * alerts': it propagates and stops the consumer.
 */
export async function writeIsolating<T>(
  items: readonly T[],
  write: (part: readonly T[]) => Promise<void>,
): Promise<{ item: T; error: unknown }[]> {
  if (items.length === 0) return [];
  const refused: { item: T; error: unknown }[] = [];
  let firstError: unknown;
  const attempt = async (part: readonly T[]): Promise<void> => {
    try {
      await write(part);
    } catch (error) {
      if ((error as { retriable?: unknown } | null)?.retriable === true) throw error;
      firstError ??= error;
      if (part.length === 1) {
        refused.push({ item: part[0]!, error });
        return;
      }
      const middle = Math.ceil(part.length / 2);
      await attempt(part.slice(0, middle));
      await attempt(part.slice(middle));
    }
  };
  await attempt(items);
  if (refused.length === items.length && isInfrastructureError(firstError)) throw firstError;
  return refused;
}
