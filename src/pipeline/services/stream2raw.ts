// stream2raw: the critical path. Archives every received alert, losslessly, before anything else happens to it;
// it has its own consumer group so enrichment lagging behind never slows it down.
//
// Every message that decodes is archived, whatever its values: its key fields are stored in a form every column
// holds (archiveKeyOf) and an alert outside the bounds the science tables need is flagged with the reason in
// `problem` (raw2science dead-letters it). A message that does not decode at all is dead-lettered here, and only
// here: raw2science skips it, so each bad message is dead-lettered once.
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { RawAlertRow, RawAlertWriter } from '../../storage/raw-store.ts';
import type { Alert } from '../alert.ts';
import type { AlertDecoder } from '../decode/alert-decoder.ts';
import { archiveKeyOf, checkAlertBounds, type IngestLimits } from '../decode/bounds.ts';
import { retry } from '../framework.ts';
import { retryKafka } from '../kafka.ts';
import { decodeBatch } from './decode-batch.ts';
import type { DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler, SourceMessage } from '../sources/kafka-batch-source.ts';

export interface Stream2RawDeps {
  decoder: AlertDecoder;
  store: RawAlertWriter;
  deadLetters: DeadLetterSink;
  /** The bounds raw2science applies (config pipeline.max*): what is flagged here is dead-lettered there. */
  limits?: IngestLimits;
  metrics: PipelineMetrics;
  logger: Logger;
  signal: AbortSignal;
}

export function createStream2RawHandler(deps: Stream2RawDeps): BatchHandler {
  const { decoder, store, deadLetters, limits, metrics, logger, signal } = deps;
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
    const rows = decoded.map(({ alert, message }) => rawRow(alert, message, limits));
    for (const { problem } of rows) if (problem !== '') metrics.flagged.inc({ reason: problem });
    await retry(() => store.write(rows), { signal, onRetry: onRetry('clickhouse') });
    await retry(() => deadLetters.send(letters), retryKafka({ signal, onRetry: onRetry('kafka') }));

    const now = Date.now();
    metrics.written.inc({ table: 'raw_alerts' }, rows.length);
    for (const message of messages) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info({ archived: rows.length, deadLetters: letters.length }, 'batch archived');
  };
}

function rawRow(alert: Alert, message: SourceMessage, limits: IngestLimits | undefined): RawAlertRow {
  const checked = checkAlertBounds(alert, limits);
  const key = archiveKeyOf(checked.kind === 'ok' ? checked.alert : alert);
  return {
    survey: alert.survey,
    alertId: key.alertId,
    objectId: key.objectId,
    ra: key.ra,
    dec: key.dec,
    jd: key.jd,
    topic: message.topic,
    partition: message.partition,
    offset: BigInt(message.offset),
    receivedAt: new Date(message.receivedAt),
    // The decoder rejects empty values, so there are bytes here.
    payload: message.value!,
    problem: checked.kind === 'ok' ? '' : checked.reason,
  };
}
