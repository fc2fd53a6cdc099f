// distribution: runs every filter over the science stream and republishes each matching alert, unchanged (key =
// its schema JSON, value = schemaless Avro, as the Fink broker and fink-client expect), to fink_<filter>_<survey>.
import type { Producer } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import type { PipelineMetrics } from '../../metrics.ts';
import { decodeDistributionMessage } from '../encode/distribution.ts';
import { retry } from '../framework.ts';
import { sendInChunks } from '../kafka.ts';
import { distributionTopic, type StreamFilter } from '../filters/builtin.ts';
import type { DeadLetter, DeadLetterSink } from '../sinks/dead-letter-sink.ts';
import type { BatchHandler } from '../sources/kafka-batch-source.ts';

export const SURVEY_HEADER = 'fink-survey';

export interface DistributionDeps {
  filters: readonly StreamFilter[];
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

export function createDistributionHandler(deps: DistributionDeps): BatchHandler {
  const { filters, topicPrefix, producer, maxRequestBytes, deadLetters, metrics, logger, signal } = deps;
  return async function distribute(messages) {
    const started = performance.now();
    const out = new Map<string, { key: Buffer; value: Buffer }[]>();
    const letters: DeadLetter[] = [];
    for (const message of messages) {
      metrics.received.inc({ topic: message.topic });
      const survey = message.headers[SURVEY_HEADER];
      if (message.key === null || message.value === null || survey === undefined) {
        letters.push({ message, reason: 'not-a-science-message' });
        continue;
      }
      let enrichment;
      try {
        enrichment = decodeDistributionMessage(message.key, message.value).enrichment;
      } catch (error) {
        letters.push({ message, reason: 'undecodable-science-message', error });
        continue;
      }
      for (const filter of filters) {
        if (!filter.matches(enrichment)) continue;
        const topic = distributionTopic(topicPrefix, filter.name, survey);
        const list = out.get(topic) ?? [];
        list.push({ key: message.key, value: message.value });
        out.set(topic, list);
      }
    }
    const topicMessages = [...out].map(([topic, list]) => ({ topic, messages: list }));
    await retry(
      async () => {
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
      { received: messages.length, published: topicMessages.reduce((n, t) => n + t.messages.length, 0) },
      'batch distributed',
    );
  };
}
