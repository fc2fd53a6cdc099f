// raw2science: decodes, enriches (quality cuts, roid, cross-match, light-curve features, classification), writes
// the science tables, then publishes each enriched alert to the science topic (the live feed and distribution's
// input). Offsets are committed by the source only after both are acknowledged.
import type { Producer } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { ScienceStore } from '../../storage/science-store.ts';
import type { Alert } from '../alert.ts';
import type { AlertDecoder } from '../decode/alert-decoder.ts';
import { sourceDatumOf } from '../decode/ztf-avro.ts';
import type { DistributionEncoder } from '../encode/distribution.ts';
import { retry, type Pipeline } from '../framework.ts';
import { retryKafka, sendInChunks } from '../kafka.ts';
import type { DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler } from '../sources/kafka-batch-source.ts';
import type { RecordWatchlistHits } from '../watchlist-hits.ts';
import { decodeBatch } from './decode-batch.ts';
import { SURVEY_HEADER } from './distribution.ts';
import {
  toDistributionEnrichment,
  toScienceBatch,
  type EnrichedAlert,
  type ProcessedAlert,
} from './science-rows.ts';

export interface Raw2ScienceDeps {
  decoder: AlertDecoder;
  pipeline: Pipeline<Alert, EnrichedAlert>;
  store: ScienceStore;
  encoder: DistributionEncoder;
  producer: Producer;
  scienceTopic: string;
  /** Produce requests are split to stay under this size. */
  maxRequestBytes: number;
  deadLetters: DeadLetterSink;
  /** Writes watchlist_hits and publishes their events (src/pipeline/watchlist-hits.ts). */
  recordWatchlistHits: RecordWatchlistHits;
  brokerVersion: string;
  metrics: PipelineMetrics;
  logger: Logger;
  signal: AbortSignal;
}

interface ScienceMessage {
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}

export function createRaw2ScienceHandler(deps: Raw2ScienceDeps): BatchHandler {
  const {
    decoder,
    pipeline,
    store,
    encoder,
    producer,
    scienceTopic,
    maxRequestBytes,
    deadLetters,
    recordWatchlistHits,
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
    const { decoded, letters } = await decodeBatch(decoder, messages, {
      signal,
      onRetry: onRetry('schema-registry'),
    });

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
        letters.push({ message, reason: result.reason, error: result.error });
      }
    });

    const processedAt = new Date();
    const batch = toScienceBatch(processed, processedAt, deps.brokerVersion);
    await retry(() => store.write(batch), { signal, onRetry: onRetry('clickhouse') });
    // After the science tables (a hit's alert is readable when its event arrives), before the offsets commit.
    const hits = await retry(
      () => recordWatchlistHits(processed.map(({ alert }) => alert)),
      retryKafka({ signal, onRetry: onRetry('watchlist-hits') }),
    );

    const science = processed.map(({ alert }): ScienceMessage => {
      const { key, value } = encoder.encode({
        writerSchemaJson: alert.schemaJson,
        record: alert.survey === 'ztf' ? alert.ztf : alert.lsst,
        // The stages never change the survey's record, so the bytes it was decoded from are still its encoding.
        recordDatum: alert.survey === 'ztf' ? sourceDatumOf(alert.ztf) : undefined,
        enrichment: toDistributionEnrichment(alert, processedAt),
      });
      return { key, value, headers: { [SURVEY_HEADER]: alert.survey } };
    });
    const sendAll = async () => {
      await sendInChunks(producer, scienceTopic, science, maxRequestBytes);
      await deadLetters.send(letters);
    };
    await retry(sendAll, retryKafka({ signal, onRetry: onRetry('kafka') }));

    const now = Date.now();
    for (const letter of letters) metrics.deadLetters.inc({ reason: letter.reason });
    metrics.written.inc({ table: 'alerts' }, batch.alerts.length);
    metrics.written.inc({ table: 'lightcurve' }, batch.lightcurve.length);
    metrics.written.inc({ table: 'cutouts' }, batch.cutouts.length);
    metrics.written.inc({ table: 'watchlist_hits' }, hits);
    metrics.published.inc({ topic: scienceTopic }, science.length);
    for (const { message } of processed) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info(
      { received: messages.length, stored: processed.length, dropped, deadLetters: letters.length },
      'batch processed',
    );
  };
}
