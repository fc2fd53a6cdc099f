// distribution: runs every filter over the science stream and republishes each matching alert, unchanged (key =
// its schema JSON, value = schemaless Avro, as the Fink broker and fink-client expect), to fink_<filter>_<survey>.
// Two kinds of filter: the built-in ones (on the broker's enrichment), and the saved filters users marked
// `distribute` through GraphQL (the filter language, on the same FilterRecord the archive search and the live
// feed evaluate), whose current set a SavedFilterSource provides.
import { setImmediate } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import type { FilterRecord } from '../../filters/record.ts';
import { filterRecordFromScience } from '../../filters/record.ts';
import type { SavedFilterSource } from '../../filters/saved-source.ts';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import { distributionSchemaOf, type DistributionEnrichment } from '../encode/distribution.ts';
import { retry } from '../framework.ts';
import { retryKafka, sendInChunks } from '../kafka.ts';
import { distributionTopic, type StreamFilter } from '../filters/builtin.ts';
import type { DeadLetter, DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler } from '../sources/kafka-batch-source.ts';

export const SURVEY_HEADER = 'fink-survey';

/** Which watchlists alerts hit, for saved filters with a `watchlist` condition. */
export interface WatchlistHitLookup {
  /** Watchlist ids per alert id (decimal text); alerts without hits may be absent. */
  watchlistsOf(alertIds: readonly bigint[]): Promise<Map<string, string[]>>;
}

export interface DistributionDeps {
  filters: readonly StreamFilter[];
  /** The distributed saved filters; absent: built-in filters only. */
  savedFilters?: SavedFilterSource;
  /**
   * Absent: a saved filter's `watchlist` condition matches no alert here. Hits recorded after distribution read
   * the alert are not seen either: the live feed and the archive search answer for those.
   */
  watchlistHits?: WatchlistHitLookup;
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

interface Decoded {
  /** The key Buffer shared by every message of its schema (see DistributionSchema.key). */
  key: Buffer;
  value: Buffer;
  survey: string;
  enrichment: DistributionEnrichment;
  record: FilterRecord | null;
}

/**
 * Synchronous work longer than this yields to the event loop: heartbeats and the other timers must go out while a
 * large batch is decoded and filtered (a member silent for the session timeout is evicted from its group).
 */
const YIELD_EVERY_MS = 50;

export function createDistributionHandler(deps: DistributionDeps): BatchHandler {
  const { filters, topicPrefix, producer, maxRequestBytes, deadLetters, metrics, logger, signal } = deps;
  /** Topics known to exist: the built-in ones are created at start; saved filters' ones on first use. */
  const ensured = new Set<string>();
  // A broker outage is waited out, each produce request retried on its own until it is acknowledged (a request
  // that went through is not sent twice) or the service stops.
  const retryOptions = retryKafka({
    signal,
    onRetry: (error, attempt, delayMs) => {
      metrics.retries.inc({ target: 'kafka' });
      logger.warn({ err: error, attempt, delayMs, target: 'kafka' }, 'publish failed; retrying');
    },
  });

  return async function distribute(messages) {
    const started = performance.now();
    const saved = deps.savedFilters?.current() ?? [];
    const out = new Map<string, { key: Buffer; value: Buffer }[]>();
    const publish = (topic: string, key: Buffer, value: Buffer) => {
      const list = out.get(topic) ?? [];
      list.push({ key, value });
      out.set(topic, list);
    };
    const letters: DeadLetter[] = [];
    const decoded: Decoded[] = [];
    let yieldedAt = performance.now();
    for (const message of messages) {
      if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
        await setImmediate();
        yieldedAt = performance.now();
      }
      metrics.received.inc({ topic: message.topic });
      const survey = message.headers[SURVEY_HEADER];
      if (message.key === null || message.value === null || survey === undefined) {
        letters.push({ message, reason: 'not-a-science-message' });
        continue;
      }
      try {
        const schema = distributionSchemaOf(message.key);
        // The built-in filters read the broker's fields only; the survey record is decoded (and the record
        // mapped, which recomputes the light-curve summary) only when some saved filter will read it.
        if (saved.length > 0) {
          const science = schema.decode(message.value);
          const record = filterRecordFromScience(science, []);
          decoded.push({
            key: schema.key,
            value: message.value,
            survey,
            enrichment: science.enrichment,
            record,
          });
        } else {
          const enrichment = schema.decodeEnrichment(message.value);
          decoded.push({ key: schema.key, value: message.value, survey, enrichment, record: null });
        }
      } catch (error) {
        letters.push({ message, reason: 'undecodable-science-message', error });
      }
    }

    if (deps.watchlistHits !== undefined && saved.some((filter) => filter.usesWatchlists)) {
      const records = decoded.flatMap((d) => (d.record === null ? [] : [d.record]));
      const lookup = deps.watchlistHits;
      const hits = await retry(() => lookup.watchlistsOf(records.map((r) => r.alertId)), { signal });
      for (const record of records) record.watchlists = hits.get(record.alertId.toString()) ?? [];
    }

    for (const { key, value, survey, enrichment, record } of decoded) {
      for (const filter of filters) {
        if (filter.matches(enrichment))
          publish(distributionTopic(topicPrefix, filter.name, survey), key, value);
      }
      if (record === null) continue;
      for (const filter of saved) {
        if (filter.matches(record)) publish(distributionTopic(topicPrefix, filter.name, survey), key, value);
      }
    }

    const topicMessages = [...out].map(([topic, list]) => ({ topic, messages: list }));
    const fresh = topicMessages.map(({ topic }) => topic).filter((topic) => !ensured.has(topic));
    const ensure = deps.ensureTopics;
    if (fresh.length > 0 && ensure !== undefined) await retry(() => ensure(fresh), retryOptions);
    for (const topic of fresh) ensured.add(topic);
    await Promise.all(
      topicMessages.map(({ topic, messages: list }) =>
        sendInChunks(producer, topic, list, maxRequestBytes, retryOptions),
      ),
    );
    await retry(() => deadLetters.send(letters), retryOptions);
    for (const { topic, messages: sent } of topicMessages) metrics.published.inc({ topic }, sent.length);
    for (const letter of letters) metrics.deadLetters.inc({ reason: letter.reason });
    const now = Date.now();
    for (const message of messages) metrics.latencySeconds.observe((now - message.receivedAt) / 1000);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    logger.info(
      {
        received: messages.length,
        savedFilters: saved.length,
        published: topicMessages.reduce((n, t) => n + t.messages.length, 0),
      },
      'batch distributed',
    );
  };
}
