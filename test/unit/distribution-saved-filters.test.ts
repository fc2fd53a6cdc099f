// The distribution handler runs the saved distributed filters besides the built-in ones, on the same record the
// archive search reads; the source compiles, deduplicates and reloads them.
import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { AlertFilterSpec } from '../../src/storage/alert-filter.ts';
import {
  compileDistributedFilters,
  startSavedFilterSource,
  type SavedFilterSource,
} from '../../src/filters/saved-source.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createRubinDecoder } from '../../src/pipeline/decode/rubin-avro.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { createDistributionEncoder } from '../../src/pipeline/encode/distribution.ts';
import { createFinkMessageBuilder } from '../../src/pipeline/encode/fink-message.ts';
import { BUILTIN_FILTERS } from '../../src/pipeline/filters/builtin.ts';
import { createDistributionHandler } from '../../src/pipeline/services/distribution.ts';
import type { SavedFilter } from '../../src/storage/saved-filter-store.ts';
import { archiveOf, realScienceMessages, type ScienceMessage } from '../helpers/science.ts';
import { waitFor } from '../helpers/wait.ts';

const logger = createLogger({ level: 'silent' });

function saved(name: string, definition: AlertFilterSpec, createdAt = 0, id = name): SavedFilter {
  return {
    id,
    owner: 'alice',
    name,
    definition,
    distribute: true,
    createdAt: new Date(createdAt),
    updatedAt: new Date(createdAt),
    version: 1n,
  };
}

/** Real ZTF alerts as raw2science publishes them: the first one labelled for a built-in filter, the second a watchlist hit. */
function scienceMessages(count: number): ScienceMessage[] {
  return realScienceMessages(count, (_alert, i) => ({
    classification: { label: i === 0 ? 'SN candidate' : 'Unknown', scores: [] },
    watchlistHits: i === 1 ? [{ watchlistId: 'w1', targetLabel: 'target', distanceArcsec: 0.5 }] : [],
  }));
}

function recordingProducer() {
  const sent = new Map<string, number>();
  const producer = {
    send: ({ topic, messages }: { topic: string; messages: unknown[] }) => {
      sent.set(topic, (sent.get(topic) ?? 0) + messages.length);
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  return { producer, sent };
}

describe('distribution with saved filters', () => {
  it('publishes to the saved filters topics what their filter selects, besides the built-in ones', async () => {
    const science = scienceMessages(20);
    const messages = science.map((s) => s.message);
    const first = science[0]!.record;
    const { producer, sent } = recordingProducer();
    const ensured: string[][] = [];
    const source: SavedFilterSource = {
      current: () =>
        compileDistributedFilters(
          [
            saved('everything', {}),
            saved('first_only', { cone: { ra: first.ra, dec: first.dec, radiusArcsec: 0.01 } }),
            saved('nothing', { survey: ['lsst'] }),
            saved('watched', { watchlist: 'w1' }),
          ],
          logger,
        ),
    };
    const handler = createDistributionHandler({
      filters: BUILTIN_FILTERS,
      savedFilters: source,
      archive: archiveOf(science),
      finkMessage: createFinkMessageBuilder({
        ztf: createZtfDecoder(),
        rubin: createRubinDecoder({ schemaDirs: new Map() }),
        encoder: createDistributionEncoder({ brokerVersion: 'test' }),
      }),
      ensureTopics: (topics) => {
        ensured.push(topics);
        return Promise.resolve();
      },
      topicPrefix: 'fx',
      producer,
      maxRequestBytes: 1_000_000,
      deadLetters: { send: () => Promise.resolve() },
      metrics: createMetrics('distribution-test'),
      logger,
      signal: new AbortController().signal,
    });
    await handler(messages);
    expect(Object.fromEntries(sent)).toEqual({
      fx_everything_ztf: messages.length,
      fx_first_only_ztf: 1,
      fx_watched_ztf: 1,
      fx_sn_candidates_ztf: 1,
    });
    expect(ensured.flat().sort()).toEqual([...sent.keys()].sort());

    // Topics are ensured once.
    await handler(messages);
    expect(ensured).toHaveLength(1);
  });
});

describe('compileDistributedFilters', () => {
  it('runs the older of two filters with one name, and skips a definition that no longer validates', () => {
    const compiled = compileDistributedFilters(
      [
        saved('dup', { survey: ['lsst'] }, 2000, 'newer'),
        saved('dup', { survey: ['ztf'] }, 1000, 'older'),
        saved('broken', { mag: { min: 2, max: 1 } }),
      ],
      logger,
    );
    expect(compiled.map((f) => f.id)).toEqual(['older']);
  });
});

describe('startSavedFilterSource', () => {
  it('loads at start and picks up changes while running', async () => {
    let stored = [saved('a', {})];
    const controller = new AbortController();
    const source = await startSavedFilterSource({
      store: { distributed: () => Promise.resolve(stored) },
      logger,
      signal: controller.signal,
      intervalMs: 10,
    });
    try {
      expect(source.current().map((f) => f.name)).toEqual(['a']);
      stored = [saved('a', {}), saved('b', { rising: true })];
      await waitFor(() => source.current().length === 2, 5000, 10);
      expect(source.current().map((f) => f.name)).toEqual(['a', 'b']);
    } finally {
      controller.abort();
    }
  });

  it('keeps the previous set when a reload fails', async () => {
    let calls = 0;
    const controller = new AbortController();
    const source = await startSavedFilterSource({
      store: {
        distributed: () =>
          ++calls === 1 ? Promise.resolve([saved('a', {})]) : Promise.reject(new Error('down')),
      },
      logger,
      signal: controller.signal,
      intervalMs: 10,
    });
    try {
      await waitFor(() => calls >= 3, 5000, 10);
      expect(source.current().map((f) => f.name)).toEqual(['a']);
    } finally {
      controller.abort();
    }
  });
});
