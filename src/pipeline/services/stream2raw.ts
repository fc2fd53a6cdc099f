// stream2raw: the critical path. Archives every received alert, losslessly, before anything else happens to it;
// it has its own consumer group so enrichment lagging behind never slows it down.
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { RawAlertRow, RawAlertStore } from '../../storage/raw-store.ts';
import { decodeFailureReason, type AlertDecoder } from '../decode/alert-decoder.ts';
import { retry } from '../framework.ts';
import type { DeadLetter, DeadLetterSink } from '../sinks/dead-letter-sink.ts';
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
    const rows: RawAlertRow[] = [];
    const letters: DeadLetter[] = [];
    const decoded = await Promise.allSettled(messages.map((message) => decodeKeyFields(decoder, message)));
    decoded.forEach((outcome, i) => {
      const message = messages[i]!;
      metrics.received.inc({ topic: message.topic });
      if (outcome.status === 'fulfilled') {
        rows.push(outcome.value);
        return;
      }
      const reason = decodeFailureReason(outcome.reason);
      // Not a property of the message (a registry outage, a bug): fail the batch, commit nothing.
      if (reason === undefined) throw outcome.reason;
      letters.push({ message, reason, error: outcome.reason });
      metrics.deadLetters.inc({ reason });
    });

    const onRetry = (target: string) => (error: unknown, attempt: number, delayMs: number) => {
      metrics.retries.inc({ target });
      logger.warn({ err: error, attempt, delayMs, target }, 'write failed; retrying');
    };
    await retry(() => store.write(rows), { signal, onRetry: onRetry('clickhouse') });
    await retry(() => deadLetters.send(letters), {
      signal,
      isRetriable: () => true,
      attempts: 10,
      onRetry: onRetry('kafka'),
    });

    const now = Date.now();
    metrics.written.inc({ table: 'raw_alerts' }, rows.length);
    for (const message of messages) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info({ archived: rows.length, deadLetters: letters.length }, 'batch archived');
  };
}

async function decodeKeyFields(decoder: AlertDecoder, message: SourceMessage): Promise<RawAlertRow> {
  const alert = await decoder.decode(message.value);
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
    // decode() rejected empty values, so there are bytes here.
    payload: message.value!,
  };
}
