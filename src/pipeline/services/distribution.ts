// distribution: runs every filter over the science stream and republishes each matching alert, unchanged (key =
// its schema JSON, value = schemaless Avro, as the Fink broker and fink-client expect), to fink_<filter>_<survey>.
// Two kinds of filter: the built-in ones (on the broker's enrichment), and the saved filters users marked
// `distribute` through GraphQL (the filter language, on the same FilterRecord the archive search and the live
// feed evaluate), whose current set a SavedFilterSource provides.
import type { Producer } from 'kafkajs';
import type { FilterRecord } from '../../filters/record.ts';
import { filterRecordFromScience } from '../../filters/record.ts';
import type { SavedFilterSource } from '../../filters/saved-source.ts';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import { decodeDistributionMessage, type DecodedDistributionMessage } from '../encode/distribution.ts';
import { retry } from '../framework.ts';
import { sendInChunks } from '../kafka.ts';
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
  key: Buffer;
  value: Buffer;
  survey: string;
  message: DecodedDistributionMessage;
  record: FilterRecord | null;
}

export function createDistributionHandler(deps: DistributionDeps): BatchHandler {
  const { filters, topicPrefix, producer, maxRequestBytes, deadLetters, metrics, logger, signal } = deps;
  /** Topics known to exist: the built-in ones are created at start; saved filters' ones on first use. */
  const ensured = new Set<string>();

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
    for (const message of messages) {
      metrics.received.inc({ topic: message.topic });
      const survey = message.headers[SURVEY_HEADER];
      if (message.key === null || message.value === null || survey === undefined) {
        letters.push({ message, reason: 'not-a-science-message' });
        continue;
      }
      try {
        const science = decodeDistributionMessage(message.key, message.value);
        // The record only when some saved filter will read it: mapping recomputes the light-curve summary.
        const record = saved.length > 0 ? filterRecordFromScience(science, []) : null;
        decoded.push({ key: message.key, value: message.value, survey, message: science, record });
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

    for (const { key, value, survey, message, record } of decoded) {
      for (const filter of filters) {
        if (filter.matches(message.enrichment))
          publish(distributionTopic(topicPrefix, filter.name, survey), key, value);
      }
      if (record === null) continue;
      for (const filter of saved) {
        if (filter.matches(record)) publish(distributionTopic(topicPrefix, filter.name, survey), key, value);
      }
    }

    const topicMessages = [...out].map(([topic, list]) => ({ topic, messages: list }));
    const fresh = topicMessages.map(({ topic }) => topic).filter((topic) => !ensured.has(topic));
    await retry(
      async () => {
        if (fresh.length > 0 && deps.ensureTopics !== undefined) await deps.ensureTopics(fresh);
        for (const topic of fresh) ensured.add(topic);
        await Promise.all(
          topicMessages.map(({ topic, messages: list }) =>
            sendInChunks(producer, topic, list, maxRequestBytes),
          ),
        );
        await deadLetters.send(letters);
      },
      { signal, isRetriable: () => true, attempts: 20 },
    );
    for (const { topic, messages: sent } of topicMessages) metrics.published.inc({ topic }, sent.length);
    for (const letter of letters) metrics.deadLetters.inc({ reason: letter.reason });
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
