// No message crashes a service: real ZTF and Rubin alerts with decoded fields changed to poison values go through
// the real decoder, every stage, the row encoders of every table, the science message encoder, distribution and
// the live feed's mapping, and each message ends archived or dead-lettered by stream2raw, and stored, dropped,
// dead-lettered or skipped by raw2science, dead-lettered once in all, with nothing thrown.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Message, Producer } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDistributedFilters } from '../../src/filters/saved-source.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type PipelineMetrics } from '../../src/metrics.ts';
import type { Alert } from '../../src/pipeline/alert.ts';
import { BUILTIN_CLASSIFIERS, resolveClassifiers } from '../../src/pipeline/classifiers/builtin.ts';
import { createFinkClassifiers } from '../../src/pipeline/classifiers/fink/index.ts';
import { createAlertDecoder } from '../../src/pipeline/decode/alert-decoder.ts';
import { BOUNDS_REASONS, DEFAULT_INGEST_LIMITS } from '../../src/pipeline/decode/bounds.ts';
import { rubinToAlert } from '../../src/pipeline/decode/rubin-alert.ts';
import { createRubinDecoder, type RubinAlert } from '../../src/pipeline/decode/rubin-avro.ts';
import { createZtfDecoder, type ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { createDistributionEncoder } from '../../src/pipeline/encode/distribution.ts';
import { createFinkMessageBuilder } from '../../src/pipeline/encode/fink-message.ts';
import { BUILTIN_FILTERS } from '../../src/pipeline/filters/builtin.ts';
import { Pipeline } from '../../src/pipeline/framework.ts';
import { createDistributionHandler } from '../../src/pipeline/services/distribution.ts';
import { createRaw2ScienceHandler } from '../../src/pipeline/services/raw2science.ts';
import { createStream2RawHandler } from '../../src/pipeline/services/stream2raw.ts';
import type { DeadLetter } from '../../src/pipeline/sinks/dead-letter-sink.ts';
import type { SourceMessage } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { createBoundsStep } from '../../src/pipeline/steps/bounds.step.ts';
import { createClassificationStep } from '../../src/pipeline/steps/classification.step.ts';
import { createCrossmatchStep } from '../../src/pipeline/steps/crossmatch.step.ts';
import { createFeaturesStep } from '../../src/pipeline/steps/features.step.ts';
import { createQualityCutsStep } from '../../src/pipeline/steps/quality.step.ts';
import { createRoidStep } from '../../src/pipeline/steps/roid.step.ts';
import { createWatchlistMatcher, createWatchlistStep } from '../../src/pipeline/steps/watchlist.step.ts';
import { liveAlertOf } from '../../src/server/live-feed.ts';
import { encodeRawAlerts, type RawAlertRow } from '../../src/storage/raw-store.ts';
import { encodeScienceRows, scienceRows } from '../../src/storage/science-store.ts';
import {
  cloneRecord,
  encodeRubin,
  encodeZtf,
  getPath,
  poisonCorpus,
  poisonFor,
  RUBIN_SCHEMA_DIR,
  rubinSeeds,
  scalarPaths,
  setPath,
  ztfSeeds,
  type RubinSeeds,
  type ZtfSeed,
} from '../helpers/poison.ts';
import { finkModels } from '../helpers/fink-models.ts';

const logger = createLogger({ level: 'silent' });
const signal = new AbortController().signal;

/** What the services did with one message. */
interface Outcome {
  archived: RawAlertRow[];
  stream2rawLetters: DeadLetter[];
  science: Message[];
  raw2scienceLetters: DeadLetter[];
  dropped: number;
  skipped: number;
  distributed: number;
  /** fink_cutouts_unreadable_total of raw2science, by kind. */
  unreadableCutouts: Record<string, number>;
}

const surveyDecoders = () => ({
  ztf: createZtfDecoder(),
  rubin: createRubinDecoder({ schemaDirs: new Map([[1000, RUBIN_SCHEMA_DIR]]) }),
});
const finkMessage = createFinkMessageBuilder({
  ...surveyDecoders(),
  encoder: createDistributionEncoder({ brokerVersion: 'fuzz' }),
});

function decoder() {
  const { rubin } = surveyDecoders();
  return createAlertDecoder({
    ztf: createZtfDecoder(),
    rubin: {
      decode: async (message) => {
        const { alert, schemaJson } = await rubin.decodeWithSchema(message);
        return rubinToAlert(alert, schemaJson);
      },
    },
  });
}

/** Sums a counter's values (all label sets). */
async function counted(metrics: PipelineMetrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

function fakeProducer(sent: Message[]): Producer {
  return {
    send: ({ messages }: { messages: Message[] }) => {
      sent.push(...messages);
      return Promise.resolve([]);
    },
  } as unknown as Producer;
}

const watchlistMatcher = createWatchlistMatcher([
  { id: 'w1', targets: [{ ra: 0, dec: 0, radiusArcsec: 3600, label: 'origin' }] },
  { id: 'w2', targets: [{ ra: 270, dec: 89.9, radiusArcsec: 60, label: 'pole' }] },
]);

/** raw2science's stages as run.ts assembles them, with in-memory catalogs and watchlists. */
const pipeline = Pipeline.start<Alert>()
  .step(createBoundsStep(DEFAULT_INGEST_LIMITS))
  .step(createQualityCutsStep())
  .step(createRoidStep())
  .batch(
    createCrossmatchStep({
      catalogs: {
        // As the ClickHouse matcher promises: non-finite or out-of-range positions match nothing.
        match: (positions) =>
          Promise.resolve(
            positions.map(({ ra, dec }) =>
              Number.isFinite(ra) && Math.abs(dec) <= 90 && ra < 1
                ? [{ catalog: 'gcvs', sourceId: 'V1', distanceArcsec: 0.5, type: 'RRAB', overriding: true }]
                : [],
            ),
          ),
      },
    }),
  )
  .step(createFeaturesStep())
  .batch(
    createClassificationStep({
      // Fink's real classifiers: poison must not get past them either.
      fink: await createFinkClassifiers(await finkModels()),
      heuristics: resolveClassifiers(Object.keys(BUILTIN_CLASSIFIERS)),
    }),
  )
  .batch(createWatchlistStep({ watchlists: { matcher: () => Promise.resolve(watchlistMatcher) } }));

const savedFilters = compileDistributedFilters(
  [
    {
      id: 'f1',
      owner: 'alice',
      name: 'bright',
      definition: {
        or: [{ mag: { max: 18 } }, { watchlist: 'w1' }, { cone: { ra: 10, dec: 10, radiusArcsec: 60 } }],
      },
      distribute: true,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      version: 1n,
    },
  ],
  logger,
);

async function runServices(value: Buffer): Promise<Outcome> {
  const message: SourceMessage = {
    topic: 'upstream',
    partition: 0,
    offset: '7',
    key: null,
    value,
    headers: {},
    timestamp: 0,
    receivedAt: Date.now(),
  };
  const outcome: Outcome = {
    archived: [],
    stream2rawLetters: [],
    science: [],
    raw2scienceLetters: [],
    dropped: 0,
    skipped: 0,
    distributed: 0,
    unreadableCutouts: {},
  };
  await createStream2RawHandler({
    decoder: decoder(),
    store: {
      write: (rows) => {
        encodeRawAlerts(rows);
        outcome.archived.push(...rows);
        return Promise.resolve();
      },
    },
    deadLetters: { send: (letters) => Promise.resolve(void outcome.stream2rawLetters.push(...letters)) },
    limits: DEFAULT_INGEST_LIMITS,
    metrics: createMetrics('stream2raw'),
    logger,
    signal,
  })([message]);

  const metrics = createMetrics('raw2science');
  await createRaw2ScienceHandler({
    decoder: decoder(),
    pipeline,
    store: {
      write: (batch) => {
        encodeScienceRows(scienceRows(batch));
        return Promise.resolve();
      },
    },
    producer: fakeProducer(outcome.science),
    scienceTopic: 'science',
    maxRequestBytes: 1_000_000,
    deadLetters: { send: (letters) => Promise.resolve(void outcome.raw2scienceLetters.push(...letters)) },
    recordWatchlistHits: (alerts) => Promise.resolve(alerts.length),
    brokerVersion: 'fuzz',
    cutoutCheck: 'structure',
    metrics,
    logger,
    signal,
  })([message]);
  outcome.dropped = await counted(metrics, 'fink_alerts_dropped_total');
  outcome.skipped = await counted(metrics, 'fink_messages_skipped_total');
  const unreadable = await metrics.registry.getSingleMetric('fink_cutouts_unreadable_total')?.get();
  for (const { labels, value } of unreadable?.values ?? []) {
    if (value > 0) outcome.unreadableCutouts[String(labels.kind)] = value;
  }

  // Downstream of the science topic: distribution (built-in and saved filters) and the live feed's mapping.
  const distributed: Message[] = [];
  const distributionLetters: DeadLetter[] = [];
  const scienceMessages = outcome.science.map((science, i): SourceMessage => ({
    topic: 'science',
    partition: 0,
    offset: String(i),
    key: science.key as Buffer,
    value: science.value as Buffer,
    headers: science.headers as Record<string, string>,
    timestamp: 0,
    receivedAt: 0,
  }));
  const archive = new Map(outcome.archived.map((row) => [`${row.survey}/${row.alertId}`, row.payload]));
  await createDistributionHandler({
    filters: BUILTIN_FILTERS,
    savedFilters: { current: () => savedFilters },
    archive: {
      payloads: (keys) =>
        Promise.resolve(
          keys.flatMap(({ survey, alertId }) => {
            const payload = archive.get(`${survey}/${alertId}`);
            return payload === undefined ? [] : [{ survey, alertId, payload }];
          }),
        ),
    },
    finkMessage,
    topicPrefix: 'fuzz',
    producer: fakeProducer(distributed),
    maxRequestBytes: 1_000_000,
    deadLetters: { send: (letters) => Promise.resolve(void distributionLetters.push(...letters)) },
    metrics: createMetrics('distribution'),
    logger,
    signal,
  })(scienceMessages);
  expect(distributionLetters).toEqual([]);
  outcome.distributed = distributed.length;
  for (const science of scienceMessages)
    liveAlertOf({ value: science.value!, headers: science.headers, timestamp: '0' }, 0);
  return outcome;
}

/** The accounting every message must satisfy, whatever it holds. */
function expectAccountedFor(outcome: Outcome, name: string): void {
  const { archived, stream2rawLetters, science, raw2scienceLetters, dropped, skipped } = outcome;
  const context = `${name}: ${JSON.stringify({
    archived: archived.map((row) => row.problem),
    stream2raw: stream2rawLetters.map((l) => l.reason),
    raw2science: raw2scienceLetters.map((l) => `${l.step}:${l.reason}:${String(l.error)}`),
    science: science.length,
    dropped,
    skipped,
  })}`;
  // stream2raw archives or dead-letters it; raw2science stores, drops, dead-letters or skips it.
  expect(archived.length + stream2rawLetters.length, context).toBe(1);
  expect(science.length + raw2scienceLetters.length + dropped + skipped, context).toBe(1);
  // raw2science skips exactly what stream2raw dead-lettered: each bad message is dead-lettered once.
  expect(skipped, context).toBe(stream2rawLetters.length);
  expect(stream2rawLetters.length + raw2scienceLetters.length, context).toBeLessThanOrEqual(1);
  // What stream2raw flags, raw2science dead-letters with the same reason.
  const problem = archived[0]?.problem ?? '';
  if (problem !== '')
    expect(
      raw2scienceLetters.map((l) => l.reason),
      context,
    ).toEqual([problem]);
  // Every rejection is foreseen: a named bound or a stage's own reason, never the safety net's.
  for (const letter of raw2scienceLetters) {
    expect(['stage-failed', 'storage-refused'], context).not.toContain(letter.reason);
  }
}

let ztf: ZtfSeed[];
let rubin: RubinSeeds;

beforeAll(async () => {
  ztf = ztfSeeds(24);
  rubin = await rubinSeeds();
});

/** A seed raw2science stores as it is (it passes the quality cuts): a change is what decides its fate. */
function storedSeed(): ZtfSeed {
  const seed = ztf.find(({ record }) => (record.candidate.rb ?? 0) >= 0.55 && record.candidate.nbad === 0);
  if (seed === undefined) throw new Error('no seed alert passes the quality cuts');
  return seed;
}

describe('the poison corpus', { timeout: 60_000 }, () => {
  it('ends every case archived or dead-lettered, with a named reason, and nothing thrown', async () => {
    const corpus = poisonCorpus(storedSeed(), rubin);
    const reasons = new Map<string, string>();
    for (const { name, value } of corpus) {
      const outcome = await runServices(value);
      expectAccountedFor(outcome, name);
      const letter = outcome.raw2scienceLetters[0] ?? outcome.stream2rawLetters[0];
      reasons.set(name, letter?.reason ?? (outcome.science.length === 1 ? 'stored' : 'dropped'));
    }
    // The cases the adversary found, each with the reason an operator reads in the dead-letter header.
    expect(Object.fromEntries(reasons)).toMatchObject({
      'ztf candid -1': 'alert-id-out-of-range',
      'ztf candid -2^63': 'alert-id-out-of-range',
      'ztf ra NaN': 'ra-invalid',
      'ztf dec 91': 'dec-out-of-range',
      'ztf jd 0': 'jd-out-of-range',
      'ztf jd in 2200': 'jd-out-of-range',
      'ztf jd NaN': 'jd-out-of-range',
      'ztf objectId 1 MB': 'object-id-invalid',
      'ztf objectId control characters': 'object-id-invalid',
      'ztf ssnamenr 1 MB': 'string-too-long',
      'ztf 10 MB random cutout': 'cutout-too-large',
      'ztf 10,000-point history': 'history-too-long',
      'rubin diaSourceId -1': 'alert-id-out-of-range',
      'rubin 10 MB random cutout': 'cutout-too-large',
      'rubin 10,000-point history': 'history-too-long',
    });
    for (const reason of reasons.values()) {
      expect([...BOUNDS_REASONS, 'stored', 'dropped', 'rb-below-0.55', 'rb-missing']).toContain(reason);
    }
  });

  it('stores ra = 360 as 0 and a magnitude of -999 or infinity as unknown', async () => {
    const corpus = new Map(poisonCorpus(storedSeed(), rubin).map((c) => [c.name, c.value]));
    const stored = async (name: string) => {
      const outcome = await runServices(corpus.get(name)!);
      expect(outcome.science.length, name).toBe(1);
      const [science] = outcome.science;
      return liveAlertOf(
        {
          value: science!.value as Buffer,
          headers: science!.headers,
          timestamp: '0',
        },
        0,
      ).record;
    };
    expect((await stored('ztf ra 360')).ra).toBe(0);
    for (const name of ['ztf magpsf -999', 'ztf magpsf +Infinity', 'ztf magpsf -Infinity']) {
      expect((await stored(name)).mag, name).toBeNull();
    }
    const history = await stored('ztf history magpsf -999 and Infinity');
    expect(history.peakMag === null || (history.peakMag > -5 && history.peakMag < 35)).toBe(true);
  });
});

describe('unreadable cutouts', () => {
  it('stores and publishes an alert whose cutouts are corrupt, counting each unreadable one by kind', async () => {
    const seed = storedSeed();
    const record = cloneRecord(seed.record);
    // A broken gzip stream, and gzipped bytes that are not FITS; the template stays the real one.
    record.cutoutScience = {
      fileName: 'science.fits.gz',
      stampData: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xee)]),
    };
    record.cutoutDifference = { fileName: 'difference.fits.gz', stampData: gzipSync('not a FITS file') };
    const outcome = await runServices(encodeZtf(seed, record)!);
    expectAccountedFor(outcome, 'corrupt cutouts');
    expect(outcome.science).toHaveLength(1);
    expect(outcome.unreadableCutouts).toEqual({ science: 1, difference: 1 });
  });

  it('counts nothing for real cutouts, nor for absent ones', async () => {
    const seed = storedSeed();
    expect((await runServices(encodeZtf(seed, seed.record)!)).unreadableCutouts).toEqual({});
    const record = cloneRecord(seed.record);
    record.cutoutTemplate = null;
    const outcome = await runServices(encodeZtf(seed, record)!);
    expect(outcome.science).toHaveLength(1);
    expect(outcome.unreadableCutouts).toEqual({});
  });
});

/** One to three fields of a seed record set to poison values; undefined when Avro cannot carry them. */
function mutate<T>(
  record: T,
  choices: readonly { path: number; value: number }[],
  encode: (changed: T) => Buffer | undefined,
): Buffer | undefined {
  const changed = cloneRecord(record);
  const paths = scalarPaths(changed);
  for (const { path: p, value: v } of choices) {
    const path = paths[p % paths.length]!;
    const values = poisonFor(getPath(changed, path));
    setPath(changed, path, values[v % values.length]);
  }
  return encode(changed);
}

const choices = fc.array(fc.record({ path: fc.nat(), value: fc.nat() }), { minLength: 1, maxLength: 3 });

// Hundreds of alerts through every service each: seconds, not the unit default of five.
describe('random poison (fast-check)', { timeout: 120_000 }, () => {
  it('ZTF: every mutated alert is accounted for and nothing throws', async () => {
    let encoded = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), choices, async (seedIndex, picks) => {
        const seed = ztf[seedIndex % ztf.length]!;
        const value = mutate<ZtfAlert>(seed.record, picks, (changed) => encodeZtf(seed, changed));
        if (value === undefined) return;
        encoded++;
        expectAccountedFor(await runServices(value), JSON.stringify(picks));
      }),
      { numRuns: 400, seed: 9 },
    );
    // The property must have been exercised, not skipped by values Avro refuses.
    expect(encoded).toBeGreaterThan(200);
  });

  it('Rubin: every mutated alert is accounted for and nothing throws', async () => {
    let encoded = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), choices, async (seedIndex, picks) => {
        const seed = rubin.alerts[seedIndex % rubin.alerts.length]!;
        const value = mutate<RubinAlert>(seed, picks, (changed) => encodeRubin(rubin, changed));
        if (value === undefined) return;
        encoded++;
        expectAccountedFor(await runServices(value), JSON.stringify(picks));
      }),
      { numRuns: 600, seed: 11 },
    );
    // Many Rubin fields are not nullable: Avro refuses about half of the changes, which no producer could send.
    expect(encoded).toBeGreaterThan(200);
  });
});
