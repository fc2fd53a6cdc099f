// stream2raw: the critical path. Archives every received alert, losslessly, before anything else happens to it;
// it has its own consumer group so enrichment lagging behind never slows it down.
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { RawAlertRow, RawAlertStore } from '../../storage/raw-store.ts';
import type { Alert } from '../alert.ts';
import type { AlertDecoder } from '../decode/alert-decoder.ts';
import { retry } from '../framework.ts';
import { retryKafka } from '../kafka.ts';
import { decodeBatch } from './decode-batch.ts';
import type { DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler, SourceMessage } from '../sources/kafka-batch-source.ts';

export interface Stream2RawDeps {
  decoder: AlertDecoder;
  store: RawAlertStore;
  deadLetters: DeadLetterSink;
  metrics: PipelineMetrics;
  logger: Logger;
  signal: AbortSignal;
}

export function createStream2RawHandler(deps: Stream2RawDeps): BatchHandler {
  const { decoder, store, deadLetters, metrics, logger, signal } = deps;
  return async function stream2raw(messages) {
    const started = performance.now();
    const onRetry = (target: string) => (error: unknown, attempt: number, delayMs: number) => {
      metrics.retries.inc({ target });
      logger.warn({ err: error, attempt, delayMs, target }, 'write failed; retrying');
    };
    for (const message of messages) metrics.received.inc({ topic: message.topic });
    const { decoded, letters } = await decodeBatch(decoder, messages, {
      signal,
      onRetry: onRetry('schema-registry'),
    });
    for (const { reason } of letters) metrics.deadLetters.inc({ reason });
    const rows = decoded.map(({ alert, message }) => rawRow(alert, message));
    await retry(() => store.write(rows), { signal, onRetry: onRetry('clickhouse') });
    await retry(() => deadLetters.send(letters), retryKafka({ signal, onRetry: onRetry('kafka') }));

    const now = Date.now();
    metrics.written.inc({ table: 'raw_alerts' }, rows.length);
    for (const message of messages) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info({ archived: rows.length, deadLetters: letters.length }, 'batch archived');
  };
}

function rawRow(alert: Alert, message: SourceMessage): RawAlertRow {
  return {
    survey: alert.survey,
    alert_id: alert.alertId,
    object_id: alert.objectId,
    ra: alert.ra,
    dec: alert.dec,
    jd: alert.jd,
    topic: message.topic,
    partition: message.partition,
    offset: BigInt(message.offset),
    received_at: new Date(message.receivedAt),
    // The decoder rejects empty values, so there are bytes here.
    payload: message.value!,
  };
}
