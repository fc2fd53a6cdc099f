// distribution: runs every filter over the science stream (each alert's one record, as raw2science computed it)
// and publishes each alert a filter selects to fink_<filter>_<survey>, in Fink's format (key = the alert's schema
// JSON, value = schemaless Avro of the survey alert plus the broker's fields), which fink-client reads.
//
// The science topic carries records only: the Fink-format message is rebuilt here, for the selected alerts alone,
// from the alert's original bytes in the raw archive (one batched read per batch). stream2raw and raw2science read
// the upstream topic independently, so an alert may reach distribution before its archive row: the read is
// repeated for those until `archiveWaitMs`, after which the alert is dead-lettered ('not-in-archive').
//
// Two kinds of filter run on the same record: the built-in ones (label, roid), and the saved filters users
// marked `distribute` through GraphQL (the filter language, as the live feed and the archive search evaluate it,
// watchlist hits included), whose current set a SavedFilterSource provides.
import { setImmediate, setTimeout as delay } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import type { SavedFilterSource } from '../../filters/saved-source.ts';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import type { RawAlertReader } from '../../storage/raw-store.ts';
import type { ScienceRecord } from '../../storage/science-store.ts';
import type { FinkMessageBuilder } from '../encode/fink-message.ts';
import { decodeScienceRecord } from '../encode/science-record.ts';
import { distributionTopic, type StreamFilter } from '../filters/builtin.ts';
import { retry } from '../framework.ts';
import { retryKafka, sendInChunks } from '../kafka.ts';
import type { DeadLetter, DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler, SourceMessage } from '../sources/kafka-batch-source.ts';

export const SURVEY_HEADER = 'fink-survey';

/** How long a selected alert may be missing from the raw archive before it is dead-lettered. */
export const DEFAULT_ARCHIVE_WAIT_MS = 60_000;

export interface DistributionDeps {
  filters: readonly StreamFilter[];
  /** The distributed saved filters; absent: built-in filters only. */
  savedFilters?: SavedFilterSource;
  /** The raw archive, where the selected alerts' original bytes are read. */
  archive: Pick<RawAlertReader, 'payloads'>;
  /** Rebuilds a selected alert's Fink-format message from its record and its archived bytes. */
  finkMessage: FinkMessageBuilder;
  /** See DEFAULT_ARCHIVE_WAIT_MS. */
  archiveWaitMs?: number;
  /** Creates topics before the first message goes to them (saved filters appear while the service runs). */
  ensureTopics?: (topics: string[]) => Promise<void>;
  /** Topics are <topicPrefix>_<filter>_<survey>. */
  topicPrefix: string;
  producer: Producer;
  /** Produce requests are split to stay under this size. */
  maxRequestBytes: number;
  deadLetters: DeadLetterSink;
  metrics: PipelineMetrics;
  logger: Logger;
  signal: AbortSignal;
}

interface Selected {
  message: SourceMessage;
  record: ScienceRecord;
  topics: string[];
}

/**
 * Synchronous work longer than this yields to the event loop: heartbeats and the other timers must go out while a
 * large batch is decoded and filtered (a member silent for the session timeout is evicted from its group).
 */
const YIELD_EVERY_MS = 50;
/** Waits between reads of the archive for alerts not yet in it. */
const ARCHIVE_POLL_MS = 500;

const archiveKey = (survey: string, alertId: bigint) => `${survey}/${alertId}`;

export function createDistributionHandler(deps: DistributionDeps): BatchHandler {
  const { filters, topicPrefix, producer, maxRequestBytes, deadLetters, metrics, logger, signal } = deps;
  const archiveWaitMs = deps.archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
  /** Topics known to exist: the built-in ones are created at start; saved filters' ones on first use. */
  const ensured = new Set<string>();
  const onRetry = (target: string) => (error: unknown, attempt: number, delayMs: number) => {
    metrics.retries.inc({ target });
    logger.warn({ err: error, attempt, delayMs, target }, 'distribution step failed; retrying');
  };
  // A broker outage is waited out, each produce request retried on its own until it is acknowledged (a request
  // that went through is not sent twice) or the service stops.
  const kafkaRetry = retryKafka({ signal, onRetry: onRetry('kafka') });
  const storageRetry = { signal, maxDelayMs: 5_000, onRetry: onRetry('clickhouse') };

  /** The archived bytes of the selected alerts; those still missing after archiveWaitMs are absent. */
  async function readArchive(selected: readonly Selected[]): Promise<Map<string, Buffer>> {
    // An alert may come twice in a batch (a replay, a duplicate upstream): each is read once.
    const wanted = new Map(
      selected.map(({ record }) => [
        archiveKey(record.survey, record.alertId),
        { survey: record.survey, alertId: record.alertId },
      ]),
    );
    const found = new Map<string, Buffer>();
    const deadline = Date.now() + archiveWaitMs;
    for (let attempt = 0; ; attempt++) {
      const missing = [...wanted].filter(([key]) => !found.has(key)).map(([, key]) => key);
      if (missing.length === 0) return found;
      if (attempt > 0) {
        // Stopping: the batch is not committed (it is distributed again after the restart), rather than
        // dead-lettering alerts that were only late.
        if (signal.aborted) throw new Error('stopped while waiting for alerts to reach the raw archive');
        if (Date.now() >= deadline) return found;
        await delay(ARCHIVE_POLL_MS, undefined, { signal }).catch(() => undefined);
      }
      for (const { survey, alertId, payload } of await retry(
        () => deps.archive.payloads(missing),
        storageRetry,
      )) {
        found.set(archiveKey(survey, alertId), payload);
      }
    }
  }

  return async function distribute(messages) {
    const started = performance.now();
    const saved = deps.savedFilters?.current() ?? [];
    const letters: DeadLetter[] = [];
    const selected: Selected[] = [];
    let yieldedAt = performance.now();
    for (const message of messages) {
      if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
        await setImmediate();
        yieldedAt = performance.now();
      }
      metrics.received.inc({ topic: message.topic });
      if (message.value === null) {
        letters.push({ message, reason: 'not-a-science-message' });
        continue;
      }
      let record: ScienceRecord;
      try {
        record = decodeScienceRecord(message.value, message.headers);
      } catch (error) {
        letters.push({ message, reason: 'undecodable-science-message', error });
        continue;
      }
      const topics: string[] = [];
      for (const filter of filters) {
        if (filter.matches(record)) topics.push(distributionTopic(topicPrefix, filter.name, record.survey));
      }
      for (const filter of saved) {
        if (filter.matches(record)) topics.push(distributionTopic(topicPrefix, filter.name, record.survey));
      }
      if (topics.length > 0) selected.push({ message, record, topics });
    }

    const payloads = selected.length === 0 ? new Map<string, Buffer>() : await readArchive(selected);
    const out = new Map<string, { key: Buffer; value: Buffer }[]>();
    for (const { message, record, topics } of selected) {
      const payload = payloads.get(archiveKey(record.survey, record.alertId));
      if (payload === undefined) {
        letters.push({ message, reason: 'not-in-archive' });
        continue;
      }
      let built: { key: Buffer; value: Buffer };
      try {
        built = await deps.finkMessage(record, payload);
      } catch (error) {
        if ((error as { retriable?: unknown }).retriable === true) throw error;
        letters.push({ message, reason: 'fink-message-failed', error });
        continue;
      }
      for (const topic of topics) {
        const list = out.get(topic) ?? [];
        list.push({ key: built.key, value: built.value });
        out.set(topic, list);
      }
    }

    const topicMessages = [...out].map(([topic, list]) => ({ topic, messages: list }));
    const fresh = topicMessages.map(({ topic }) => topic).filter((topic) => !ensured.has(topic));
    const ensure = deps.ensureTopics;
    if (fresh.length > 0 && ensure !== undefined) await retry(() => ensure(fresh), kafkaRetry);
    for (const topic of fresh) ensured.add(topic);
    await Promise.all(
      topicMessages.map(({ topic, messages: list }) =>
        sendInChunks(producer, topic, list, maxRequestBytes, kafkaRetry),
      ),
    );
    await retry(() => deadLetters.send(letters), kafkaRetry);
    for (const { topic, messages: sent } of topicMessages) metrics.published.inc({ topic }, sent.length);
    for (const letter of letters) metrics.deadLetters.inc({ reason: letter.reason });
    const now = Date.now();
    for (const message of messages) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info(
      {
        received: messages.length,
        selected: selected.length,
        savedFilters: saved.length,
        published: topicMessages.reduce((n, t) => n + t.messages.length, 0),
      },
      'batch distributed',
    );
  };
}
