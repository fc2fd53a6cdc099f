// distribution's handler on real science messages: the broker's fields read without decoding the survey record,
// one key Buffer per schema (the producer's partitioner hashes each key once), and a broker outage waited out
// request by request, so that nothing is published twice and a refused request fails the batch at once.
import type { Producer } from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import {
  createDistributionEncoder,
  decodeDistributionMessage,
  distributionSchemaOf,
} from '../../src/pipeline/encode/distribution.ts';
import { BUILTIN_FILTERS } from '../../src/pipeline/filters/builtin.ts';
import { SURVEY_HEADER, createDistributionHandler } from '../../src/pipeline/services/distribution.ts';
import { toDistributionEnrichment, type EnrichedAlert } from '../../src/pipeline/services/science-rows.ts';
import { computeLightCurveFeatures } from '../../src/pipeline/steps/features.step.ts';
import type { SourceMessage } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { realZtfAlerts } from '../helpers/alerts.ts';

const logger = createLogger({ level: 'silent' });
const encoder = createDistributionEncoder({ brokerVersion: 'test' });
const LABELS = ['SN candidate', 'Unknown', 'Early SN Ia candidate', 'Kilonova candidate'];

/** Real ZTF alerts (both schema versions) as raw2science publishes them, each with its own copy of the key. */
function scienceMessages(): SourceMessage[] {
  return realZtfAlerts().map(({ alert }, i): SourceMessage => {
    if (alert.survey !== 'ztf') throw new Error('expected a ZTF alert');
    const enriched: EnrichedAlert = {
      ...alert,
      roid: i % 5 === 0 ? 3 : 0,
      ssName: null,
      crossmatches: [],
      features: computeLightCurveFeatures(alert.points),
      classification: { label: LABELS[i % LABELS.length]!, scores: [] },
      watchlistHits: [],
    };
    const { key, value } = encoder.encode({
      writerSchemaJson: alert.schemaJson,
      record: alert.ztf,
      enrichment: toDistributionEnrichment(enriched, new Date(1_700_000_000_000 + i)),
    });
    // As consumed: every message carries its own Buffer of the key bytes.
    return {
      topic: 'science',
      partition: 0,
      offset: String(i),
      key: Buffer.from(key),
      value,
      headers: { [SURVEY_HEADER]: 'ztf' },
      timestamp: 0,
      receivedAt: 0,
    };
  });
}

type Send = Parameters<Producer['send']>[0];

function handlerWith(send: (record: Send) => Promise<void>) {
  const producer = { send: async (record: Send) => (await send(record), []) } as unknown as Producer;
  return createDistributionHandler({
    filters: BUILTIN_FILTERS,
    topicPrefix: 'fx',
    producer,
    // Small requests: many per topic, so that one can fail while others succeed.
    maxRequestBytes: 200_000,
    deadLetters: { send: () => Promise.resolve() },
    metrics: createMetrics('distribution-handler-test'),
    logger,
    signal: new AbortController().signal,
  });
}

/** What the built-in filters select, from the whole decoded message. */
function expectedCounts(messages: SourceMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const message of messages) {
    const { enrichment } = decodeDistributionMessage(message.key!, message.value!);
    for (const filter of BUILTIN_FILTERS) {
      if (filter.matches(enrichment))
        counts[`fx_${filter.name}_ztf`] = (counts[`fx_${filter.name}_ztf`] ?? 0) + 1;
    }
  }
  return counts;
}

describe('distributionSchemaOf', () => {
  it('reads the broker fields alone as the whole decode reads them, for ZTF 3.3 and 4.02 alike', () => {
    const messages = scienceMessages();
    const versions = new Set<string>();
    for (const message of messages) {
      const schema = distributionSchemaOf(message.key!);
      const whole = schema.decode(message.value!);
      versions.add(String(whole.record.schemavsn));
      expect(schema.decodeEnrichment(message.value!)).toEqual(whole.enrichment);
    }
    expect([...versions].sort()).toEqual(['3.3', '4.02']);
  });

  it('answers one key Buffer for equal key bytes, whatever Buffer they come in', () => {
    const [first, ...rest] = scienceMessages();
    const schema = distributionSchemaOf(first!.key!);
    for (const message of rest.filter((m) => m.key!.equals(first!.key!))) {
      expect(distributionSchemaOf(Buffer.from(message.key!)).key).toBe(schema.key);
    }
    expect(distributionSchemaOf(first!.key!.toString('utf8')).key).toBe(schema.key);
  });
});

describe('the distribution handler', () => {
  it('publishes what the filters select, with one key Buffer per schema', async () => {
    const messages = scienceMessages();
    const counts: Record<string, number> = {};
    const keys = new Set<unknown>();
    await handlerWith((record) => {
      counts[record.topic] = (counts[record.topic] ?? 0) + record.messages.length;
      for (const message of record.messages) keys.add(message.key);
      return Promise.resolve();
    })(messages);
    expect(counts).toEqual(expectedCounts(messages));
    // Two schema versions among the real alerts: two key objects for hundreds of messages.
    expect(keys.size).toBe(2);
  });

  it('waits out a broker outage, sending again only the requests that failed', async () => {
    const messages = scienceMessages();
    const counts: Record<string, number> = {};
    let calls = 0;
    await handlerWith((record) => {
      // Every third request fails twice, as requests do while a broker restarts.
      const call = calls++;
      if (call % 3 === 0 && call < 12)
        return Promise.reject(new KafkaJSConnectionError('Connection error: ECONNREFUSED'));
      counts[record.topic] = (counts[record.topic] ?? 0) + record.messages.length;
      return Promise.resolve();
    })(messages);
    expect(calls).toBeGreaterThan(4);
    expect(counts).toEqual(expectedCounts(messages));
  });

  it('fails the batch at once when the broker refuses a request', async () => {
    let requests = 0;
    await handlerWith(() => {
      requests++;
      return Promise.resolve();
    })(scienceMessages());
    let calls = 0;
    const refusal = new KafkaJSProtocolError({
      message: 'The request included a message larger than the max message size the server will accept',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as never);
    const handler = handlerWith(() => {
      calls++;
      return Promise.reject(refusal);
    });
    await expect(handler(scienceMessages())).rejects.toBe(refusal);
    // Each request tried once: a refusal is not an outage.
    expect(requests).toBeGreaterThan(1);
    expect(calls).toBe(requests);
  });
});
