// distribution's handler on real alerts: it reads the records raw2science publishes, rebuilds the Fink-format
// message of each alert a filter selects from the alert's archived bytes (one archive read per batch), with one
// key Buffer per schema (the producer's partitioner hashes each key once), waits for alerts not yet archived and
// dead-letters them after a deadline, and waits out a broker outage request by request.
import type { Producer } from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { createRubinDecoder } from '../../src/pipeline/decode/rubin-avro.ts';
import {
  createDistributionEncoder,
  decodeDistributionMessage,
  distributionSchemaOf,
} from '../../src/pipeline/encode/distribution.ts';
import { createFinkMessageBuilder } from '../../src/pipeline/encode/fink-message.ts';
import { BUILTIN_FILTERS } from '../../src/pipeline/filters/builtin.ts';
import {
  createDistributionHandler,
  type DistributionDeps,
} from '../../src/pipeline/services/distribution.ts';
import type { DeadLetter } from '../../src/pipeline/sinks/dead-letter-sink.ts';
import { archiveOf, realScienceMessages, type ScienceMessage } from '../helpers/science.ts';

const logger = createLogger({ level: 'silent' });
const LABELS = ['SN candidate', 'Unknown', 'Early SN Ia candidate', 'Kilonova candidate'];
const finkMessage = createFinkMessageBuilder({
  ztf: createZtfDecoder(),
  rubin: createRubinDecoder({ schemaDirs: new Map() }),
  encoder: createDistributionEncoder({ brokerVersion: 'test' }),
});

/** The real ZTF alerts (both schema versions) with labels that the built-in filters select in turn. */
function scienceMessages(): ScienceMessage[] {
  return realScienceMessages(Infinity, (_alert, i) => ({
    roid: i % 5 === 0 ? 3 : 0,
    classification: { label: LABELS[i % LABELS.length]!, scores: [] },
  }));
}

type Send = Parameters<Producer['send']>[0];

function handlerWith(
  send: (record: Send) => Promise<void>,
  science: ScienceMessage[],
  overrides: Partial<DistributionDeps> = {},
) {
  const producer = { send: async (record: Send) => (await send(record), []) } as unknown as Producer;
  return createDistributionHandler({
    filters: BUILTIN_FILTERS,
    archive: archiveOf(science),
    finkMessage,
    topicPrefix: 'fx',
    producer,
    // Small requests: many per topic, so that one can fail while others succeed.
    maxRequestBytes: 200_000,
    deadLetters: { send: () => Promise.resolve() },
    metrics: createMetrics('distribution-handler-test'),
    logger,
    signal: new AbortController().signal,
    ...overrides,
  });
}

/** What the built-in filters select, from the records. */
function expectedCounts(science: ScienceMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { record } of science) {
    for (const filter of BUILTIN_FILTERS) {
      if (filter.matches(record))
        counts[`fx_${filter.name}_ztf`] = (counts[`fx_${filter.name}_ztf`] ?? 0) + 1;
    }
  }
  return counts;
}

describe('the distribution handler', () => {
  it('publishes the Fink-format message of what the filters select, one key Buffer per schema', async () => {
    const science = scienceMessages();
    // Three candids come twice among the real alerts (each copy with its own label here).
    const byId = new Map<string, ScienceMessage[]>();
    for (const s of science)
      byId.set(s.record.alertId.toString(), [...(byId.get(s.record.alertId.toString()) ?? []), s]);
    const counts: Record<string, number> = {};
    const keys = new Set<unknown>();
    const archive = archiveOf(science);
    await handlerWith(
      (request) => {
        counts[request.topic] = (counts[request.topic] ?? 0) + request.messages.length;
        for (const message of request.messages) {
          keys.add(message.key);
          // The survey's alert as received, and the broker's fields from the record.
          const decoded = decodeDistributionMessage(message.key as Buffer, message.value as Buffer);
          const copies = byId.get(String(decoded.record.candid))!;
          expect(copies.map((c) => [c.record.label, c.record.roid])).toContainEqual([
            decoded.enrichment.finkclass,
            decoded.enrichment.roid,
          ]);
          expect(decoded.record.objectId).toBe(copies[0]!.record.objectId);
          expect((decoded.record.cutoutScience as { stampData: Buffer }).stampData.length).toBeGreaterThan(0);
        }
        return Promise.resolve();
      },
      science,
      { archive },
    )(science.map((s) => s.message));
    expect(counts).toEqual(expectedCounts(science));
    // Two schema versions among the real alerts: two key objects for hundreds of messages.
    expect(keys.size).toBe(2);
    // One read of the archive for the whole batch.
    expect(archive.reads).toBe(1);
  });

  it('reads only the selected alerts, and nothing when no filter selects any', async () => {
    const science = realScienceMessages(50);
    const archive = archiveOf(science);
    let sent = 0;
    await handlerWith(() => (sent++, Promise.resolve()), science, { archive })(science.map((s) => s.message));
    expect(archive.reads).toBe(0);
    expect(sent).toBe(0);
  });

  it('waits for an alert not yet archived, then dead-letters it after the deadline; the rest is published', async () => {
    const science = scienceMessages().slice(0, 40);
    const late = science.find((s) => s.record.label === 'SN candidate')!.record.alertId;
    const gone = science.filter((s) => s.record.label === 'SN candidate')[1]!.record.alertId;
    const missing = new Set([late, gone]);
    const archive = archiveOf(science, missing);
    const payloads = archive.payloads.bind(archive);
    // The late alert is archived after the first read (stream2raw behind raw2science); the other never is.
    archive.payloads = (keys) => {
      if (archive.reads === 1) missing.delete(late);
      return payloads(keys);
    };
    const letters: DeadLetter[] = [];
    const published = new Set<string>();
    await handlerWith(
      (request) => {
        for (const message of request.messages) {
          published.add(
            String(decodeDistributionMessage(message.key as Buffer, message.value as Buffer).record.candid),
          );
        }
        return Promise.resolve();
      },
      science,
      {
        archive,
        archiveWaitMs: 1500,
        deadLetters: { send: (batch) => (letters.push(...batch), Promise.resolve()) },
      },
    )(science.map((s) => s.message));
    expect(archive.reads).toBeGreaterThan(2);
    expect(published.has(late.toString())).toBe(true);
    expect(published.has(gone.toString())).toBe(false);
    expect(letters.map((l) => l.reason)).toEqual(['not-in-archive']);
    const expected = science.filter(
      (s) => s.record.alertId !== gone && expectedCounts([s])['fx_sn_candidates_ztf'],
    );
    for (const { record } of expected) expect(published.has(record.alertId.toString())).toBe(true);
  });

  it('reads an alert that comes twice in a batch once, and publishes both copies without waiting', async () => {
    const [selected] = scienceMessages().filter((s) => s.record.label === 'SN candidate');
    const archive = archiveOf([selected!]);
    let sent = 0;
    // The default wait for missing alerts is a minute: a handler that waited would time the test out.
    await handlerWith((request) => ((sent += request.messages.length), Promise.resolve()), [selected!], {
      archive,
    })([selected!.message, { ...selected!.message, offset: '1' }]);
    expect(archive.reads).toBe(1);
    // Each copy to each topic that selects it: at least once, as the science topic held it twice.
    expect(sent).toBe(2 * BUILTIN_FILTERS.filter((filter) => filter.matches(selected!.record)).length);
  });

  it('fails the batch, dead-lettering nothing, when stopped while an alert is not yet archived', async () => {
    const science = scienceMessages().slice(0, 10);
    const late = science.find((s) => s.record.label === 'SN candidate')!.record.alertId;
    const archive = archiveOf(science, new Set([late]));
    const controller = new AbortController();
    const letters: DeadLetter[] = [];
    const payloads = archive.payloads.bind(archive);
    archive.payloads = (keys) => {
      if (archive.reads === 1) controller.abort();
      return payloads(keys);
    };
    const handler = handlerWith(() => Promise.resolve(), science, {
      archive,
      signal: controller.signal,
      deadLetters: { send: (batch) => (letters.push(...batch), Promise.resolve()) },
    });
    await expect(handler(science.map((s) => s.message))).rejects.toThrow(/raw archive/);
    expect(letters).toEqual([]);
  });

  it('dead-letters what is not a science record of this version, and goes on', async () => {
    const science = scienceMessages().slice(0, 8);
    const letters: DeadLetter[] = [];
    let sent = 0;
    const [first, second] = science.map((s) => s.message);
    const garbage = { ...first!, value: Buffer.from('not avro at all') };
    const otherVersion = { ...second!, headers: { ...second!.headers, 'fink-record': 'science-record/99' } };
    await handlerWith((request) => ((sent += request.messages.length), Promise.resolve()), science, {
      deadLetters: { send: (batch) => (letters.push(...batch), Promise.resolve()) },
    })([garbage, otherVersion, ...science.slice(2).map((s) => s.message)]);
    expect(letters.map((l) => l.reason)).toEqual([
      'undecodable-science-message',
      'undecodable-science-message',
    ]);
    expect(sent).toBeGreaterThan(0);
  });

  it('waits out a broker outage, sending again only the requests that failed', async () => {
    const science = scienceMessages();
    const counts: Record<string, number> = {};
    let calls = 0;
    await handlerWith((request) => {
      // Every third request fails twice, as requests do while a broker restarts.
      const call = calls++;
      if (call % 3 === 0 && call < 12)
        return Promise.reject(new KafkaJSConnectionError('Connection error: ECONNREFUSED'));
      counts[request.topic] = (counts[request.topic] ?? 0) + request.messages.length;
      return Promise.resolve();
    }, science)(science.map((s) => s.message));
    expect(calls).toBeGreaterThan(4);
    expect(counts).toEqual(expectedCounts(science));
  });

  it('fails the batch at once when the broker refuses a request', async () => {
    const science = scienceMessages();
    const messages = science.map((s) => s.message);
    let requests = 0;
    await handlerWith(() => {
      requests++;
      return Promise.resolve();
    }, science)(messages);
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
    }, science);
    await expect(handler(messages)).rejects.toBe(refusal);
    // Each request tried once: a refusal is not an outage.
    expect(requests).toBeGreaterThan(1);
    expect(calls).toBe(requests);
  });
});

describe('distributionSchemaOf', () => {
  it('answers one key Buffer for equal key bytes, whatever Buffer they come in', async () => {
    const science = scienceMessages().slice(0, 30);
    const built = await Promise.all(science.map((s) => finkMessage(s.record, s.payload)));
    const [first, ...rest] = built;
    const schema = distributionSchemaOf(Buffer.from(first!.key));
    for (const message of rest.filter((m) => m.key.equals(first!.key))) {
      expect(distributionSchemaOf(Buffer.from(message.key)).key).toBe(schema.key);
    }
    expect(distributionSchemaOf(first!.key.toString('utf8')).key).toBe(schema.key);
  });
});
