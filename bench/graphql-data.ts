// Data for `npm run bench graphql`: a science database at survey scale (10 million alerts of 1 million objects)
// filled in a few minutes, and the science messages of the live part.
//
// The fill writes each object once from JavaScript and lets ClickHouse make everything else. The `hpx` column must
// be the NESTED HEALPix order-15 cell of (ra, dec) for the cone search to find anything, and ClickHouse 18.16 has
// no HEALPix function: so the objects' positions and cells are computed here (hpxOf, ~0.35 s per million), sent
// once as RowBinary into a seed table, and the alerts, light curves, objects and classifications are made from
// it with `INSERT ... SELECT ... FROM bench_seed ARRAY JOIN range(n)`. Every alert of an object sits at the
// object's position, so its cell is the object's. The materialized views on `alerts` (alerts_by_hpx,
// alerts_by_class, alerts_by_night, alerts_by_id) fill themselves from those inserts, as from raw2science's.
//
// The values are deterministic (a seeded PRNG in JavaScript, intHash64 of the row in SQL), so two runs query
// the same database.
import { createPrng, deriveSeed } from '../datasim/prng.ts';
import { generateSyntheticAlerts } from '../datasim/synthetic.ts';
import type { ComparisonOp, FilterField } from '../src/storage/alert-filter.ts';
import type { FilterRecord } from '../src/filters/predicate.ts';
import type { ScienceRecord } from '../src/storage/science-store.ts';
import { ztfToAlert } from '../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder } from '../src/pipeline/decode/ztf-avro.ts';
import { encodeScienceRecord, type ScienceMessage } from '../src/pipeline/encode/science-record.ts';
import { SURVEY_HEADER } from '../src/pipeline/services/distribution.ts';
import { toScienceRecord } from '../src/pipeline/services/science-rows.ts';
import { computeLightCurveFeatures } from '../src/pipeline/steps/features.step.ts';
import { hpxOf } from '../src/sky/healpix.ts';
import { queryRows, runCommand, type ClickHouseClient } from '../src/storage/clickhouse.ts';
import { insertRows } from '../src/storage/row-binary.ts';
import { defineTable, type RowOfTable } from '../src/storage/table.ts';

/** Provenance of the made-up scores (the benchmark measures reads, not models). */
const BENCH_MODEL = { modelFile: 'bench/model', modelSha256: '0'.repeat(64), finkScienceVersion: '7.4.0' };
import { sql, type Sql } from '../src/storage/sql.ts';

export interface FillOptions {
  objects: number;
  alertsPerObject: number;
  /** Upper limits per object in the light curve, besides one detection per alert. */
  upperLimitsPerObject: number;
  seed: number;
}

export interface TableSize {
  table: string;
  rows: number;
  bytesOnDisk: number;
}

export interface FillReport {
  seconds: number;
  steps: { step: string; seconds: number }[];
  tables: TableSize[];
}

/** Fink labels with the share of objects carrying each (most alerts are unclassified, as in the live stream). */
export const LABEL_WEIGHTS: readonly (readonly [string, number])[] = [
  ['Unknown', 0.56],
  ['SN candidate', 0.12],
  ['Solar System MPC', 0.12],
  ['Solar System candidate', 0.05],
  ['Ambiguous', 0.05],
  ['Microlensing candidate', 0.04],
  ['Early SN Ia candidate', 0.04],
  ['Tracklet', 0.015],
  ['Kilonova candidate', 0.005],
];

/** First detections over 180 nights from 2025-01-01; an object's alerts follow every 0.5-4 days. */
export const START_JD = 2460676.5;
const SPAN_DAYS = 180;
const UNIX_EPOCH_JD = 2440587.5;
/** ZTF-like candids: 64-bit, beyond 2^53, so that an id rounded through a double would show. */
const ALERT_ID_BASE = 2_500_000_000_000_000_000n;
/** alert_id = base + object * 64 + k: room for 64 alerts per object. */
const ALERT_ID_STRIDE = 64;
const MAX_ALERTS_PER_OBJECT = ALERT_ID_STRIDE;
/** Objects per INSERT ... SELECT: 1 million alerts per statement keeps each under ~1 GB on the 2-core box. */
const OBJECTS_PER_CHUNK = 100_000;
/** ZTF's footprint: north of -31 degrees. */
const MIN_DEC = -31;
const ID_SPACE = 26 ** 7;
const ID_MULTIPLIER = 7_777_777;

const SEED = defineTable('bench_seed', {
  i: 'UInt32',
  object_id: 'String',
  ra: 'Float64',
  dec: 'Float64',
  hpx: 'UInt64',
  class: 'String',
  first_jd: 'Float64',
  cadence: 'Float64',
  base_mag: 'Float64',
  amp: 'Float64',
});
type SeedRow = RowOfTable<typeof SEED>;

/** 'ZTF25' + 7 lowercase letters, distinct for distinct i (ID_MULTIPLIER is coprime with 26). */
function objectIdOf(i: number): string {
  let n = (i * ID_MULTIPLIER + 12_345) % ID_SPACE;
  let letters = '';
  for (let j = 0; j < 7; j++) {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  }
  return `ZTF25${letters}`;
}

function pickLabel(u: number): string {
  let acc = 0;
  for (const [label, weight] of LABEL_WEIGHTS) {
    acc += weight;
    if (u < acc) return label;
  }
  return LABEL_WEIGHTS[0]![0];
}

function* seedRows(options: FillOptions): Generator<SeedRow[]> {
  const rng = createPrng(deriveSeed(options.seed, 11));
  const sinMin = Math.sin((MIN_DEC * Math.PI) / 180);
  let chunk: SeedRow[] = [];
  for (let i = 0; i < options.objects; i++) {
    const ra = rng.uniform(0, 360);
    const dec = (Math.asin(rng.uniform(sinMin, 1)) * 180) / Math.PI;
    chunk.push({
      i,
      object_id: objectIdOf(i),
      ra,
      dec,
      hpx: BigInt(hpxOf(ra, dec)),
      class: pickLabel(rng.next()),
      first_jd: START_JD + rng.uniform(0, SPAN_DAYS),
      cadence: rng.uniform(0.5, 4),
      base_mag: rng.uniform(16.5, 20.5),
      amp: rng.uniform(0, 1.2),
    });
    if (chunk.length === OBJECTS_PER_CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

// The per-alert values, as SQL over a bench_seed row and the alert's index `k` (0 = first alert). Shared by the
// alerts, light-curve and object inserts so that they describe the same detections.
const ROW = sql`(i * ${ALERT_ID_STRIDE} + k)`;
const NOISE = sql`((intHash64(${ROW}) % 1000) / 1000 - 0.5)`;
const ALERT_ID = sql`(${ALERT_ID_BASE} + ${ROW})`;
const JD = sql`(first_jd + k * cadence)`;
const MAG = sql`(base_mag + amp * sin(k * 0.7 + i % 7) + ${NOISE} * 0.1)`;
const MAG_ERR = sql`(0.04 + abs(${NOISE}) * 0.1)`;
/** Detection k is in g when k is even, in r otherwise. */
const BAND = sql`if(k % 2 = 0, 'g', 'r')`;
const NIGHT = sql`(toDate('1970-01-01') + toUInt32(floor(${JD} - ${UNIX_EPOCH_JD})))`;
const AT = sql`toDateTime(toUInt32((${JD} - ${UNIX_EPOCH_JD}) * 86400) + 600)`;
/** Change per day since the previous detection (same formula at k - 1); unknown for the first. */
const RATE = sql`if(k = 0, NULL, amp * (sin(k * 0.7 + i % 7) - sin((k - 1) * 0.7 + i % 7)) / cadence)`;
const ROID = sql`if(class = 'Solar System MPC', 3, if(class = 'Solar System candidate', 2, 0))`;
const SS_NAME = sql`if(class = 'Solar System MPC', toString(10000 + i % 90000), '')`;

function alertsInsert(from: number, to: number, perObject: number): Sql {
  // ~300 bytes of candidate JSON (a real ZTF candidate is ~3 KB: the queries measured here never read it).
  return sql`INSERT INTO alerts (survey, alert_id, object_id, jd, night, ra, dec, hpx, band, mag, mag_err, roid,
      ss_name, class, ndet, nlim, first_jd, last_jd, peak_mag, color_gr, rate, rising, features, candidate,
      topic, partition, offset, processed_at)
    SELECT 'ztf', ${ALERT_ID}, object_id, ${JD}, ${NIGHT}, ra, dec, hpx, ${BAND}, ${MAG}, ${MAG_ERR}, ${ROID},
      ${SS_NAME}, class, toUInt32(k + 1), toUInt32(intDiv(k, 3)), first_jd, ${JD}, base_mag - amp,
      if(k = 0, NULL, 0.3 + amp * 0.2), ${RATE}, if(k = 0, NULL, toUInt8(${RATE} < 0)),
      concat('{"ndetG":', toString(intDiv(k + 2, 2)), ',"ndetR":', toString(intDiv(k + 1, 2)),
             ',"durationDays":', toString(k * cadence), '}'),
      concat('{"candid":"', toString(${ALERT_ID}), '","objectId":"', object_id, '","jd":', toString(${JD}),
             ',"ra":', toString(ra), ',"dec":', toString(dec), ',"magpsf":', toString(${MAG}),
             ',"sigmapsf":', toString(${MAG_ERR}), ',"fid":', if(k % 2 = 0, '1', '2'),
             ',"rb":0.9,"drb":0.99,"isdiffpos":"t","field":', toString(400 + i % 500),
             ',"programid":1,"nid":', toString(toUInt32(floor(${JD} - 2457755))), '}'),
      'bench', toUInt32(0), toUInt64(${ROW}), ${AT}
    FROM bench_seed ARRAY JOIN range(${perObject}) AS k
    WHERE i >= ${from} AND i < ${to}`;
}

function lightcurveInsert(from: number, to: number, perObject: number, limits: number): Sql {
  // Detections k < perObject are the alerts' own; upper limits fall half a cadence before detections 1, 2, ...
  const limitJd = sql`(first_jd + (k - ${perObject} + 1) * cadence - cadence / 2)`;
  const isLimit = sql`(k >= ${perObject})`;
  return sql`INSERT INTO lightcurve (survey, object_id, jd, band, kind, mag, mag_err, limit_mag, flux, flux_err,
      negative, source_id)
    SELECT 'ztf', object_id, if(${isLimit}, ${limitJd}, ${JD}), ${BAND},
      if(${isLimit}, 'upper-limit', 'detection'),
      if(${isLimit}, NULL, ${MAG}), if(${isLimit}, NULL, ${MAG_ERR}), if(${isLimit}, 20.5 + ${NOISE}, NULL),
      CAST(NULL AS Nullable(Float64)), CAST(NULL AS Nullable(Float64)), toUInt8(0),
      if(${isLimit}, toUInt64(0), ${ALERT_ID})
    FROM bench_seed ARRAY JOIN range(${perObject + limits}) AS k
    WHERE i >= ${from} AND i < ${to}`;
}

function objectsInsert(perObject: number): Sql {
  // The object's row is its last alert's state.
  return sql`INSERT INTO objects (survey, object_id, version, last_alert_id, ra, dec, hpx, first_jd, last_jd,
      band, mag, roid, ss_name, class, ndet, nlim, peak_mag, color_gr, rate, rising, features, updated_at)
    SELECT 'ztf', object_id, toUInt64(${JD} * 86400000), ${ALERT_ID}, ra, dec, hpx, first_jd, ${JD}, ${BAND},
      ${MAG}, ${ROID}, ${SS_NAME}, class, toUInt32(k + 1), toUInt32(intDiv(k, 3)), base_mag - amp,
      0.3 + amp * 0.2, ${RATE}, toUInt8(${RATE} < 0), '{}', ${AT}
    FROM (SELECT *, toUInt32(${perObject - 1}) AS k FROM bench_seed)`;
}

function classificationsInsert(from: number, to: number, perObject: number): Sql {
  return sql`INSERT INTO classifications (survey, alert_id, object_id, jd, classifier, version, label, score,
      processed_at)
    SELECT 'ztf', ${ALERT_ID}, object_id, ${JD}, 'fink', '0.1.0', class, CAST(NULL AS Nullable(Float64)), ${AT}
    FROM bench_seed ARRAY JOIN range(${perObject}) AS k
    WHERE i >= ${from} AND i < ${to}`;
}

/** Fills a freshly migrated database (config.database) with options.objects x options.alertsPerObject alerts. */
export async function fillDatabase(
  client: ClickHouseClient,
  database: string,
  options: FillOptions,
  progress: (message: string) => void = () => {},
): Promise<FillReport> {
  if (options.alertsPerObject < 1 || options.alertsPerObject > MAX_ALERTS_PER_OBJECT) {
    throw new RangeError(`alertsPerObject must be 1..${MAX_ALERTS_PER_OBJECT}`);
  }
  const started = performance.now();
  const steps: FillReport['steps'] = [];
  const step = async (name: string, work: () => Promise<void>) => {
    const t0 = performance.now();
    await work();
    const seconds = (performance.now() - t0) / 1000;
    steps.push({ step: name, seconds });
    progress(`${name}: ${seconds.toFixed(1)} s`);
  };

  await runCommand(
    client,
    sql`CREATE TABLE bench_seed (i UInt32, object_id String, ra Float64, dec Float64, hpx UInt64, class String,
          first_jd Float64, cadence Float64, base_mag Float64, amp Float64) ENGINE = MergeTree ORDER BY i`,
  );
  await step('objects: positions and HEALPix cells in JS, RowBinary into bench_seed', async () => {
    for (const chunk of seedRows(options)) await insertRows(client, SEED, chunk);
  });
  const { objects, alertsPerObject: perObject } = options;
  const chunks: [number, number][] = [];
  for (let from = 0; from < objects; from += OBJECTS_PER_CHUNK) {
    chunks.push([from, Math.min(objects, from + OBJECTS_PER_CHUNK)]);
  }
  await step('alerts (+ the four materialized views)', async () => {
    for (const [from, to] of chunks) {
      await runCommand(client, alertsInsert(from, to, perObject));
      progress(`  alerts of objects ${from}..${to}`);
    }
  });
  await step('lightcurve', async () => {
    for (const [from, to] of chunks) {
      await runCommand(client, lightcurveInsert(from, to, perObject, options.upperLimitsPerObject));
    }
  });
  await step('objects', () => runCommand(client, objectsInsert(perObject)));
  await step('classifications', async () => {
    for (const [from, to] of chunks) await runCommand(client, classificationsInsert(from, to, perObject));
  });
  await runCommand(client, sql`DROP TABLE bench_seed`);
  return {
    seconds: (performance.now() - started) / 1000,
    steps,
    tables: await tableSizes(client, database),
  };
}

/** Rows and bytes on disk per table (a materialized view's rows live in its `.inner.` table). */
export async function tableSizes(client: ClickHouseClient, database: string): Promise<TableSize[]> {
  const rows = await queryRows<{ table: string; rows: string; bytes: string }>(
    client,
    sql`SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
        WHERE database = ${database} AND active GROUP BY table ORDER BY table`,
  );
  return rows.map((row) => ({
    table: row.table.replace(/^\.inner\./, ''),
    rows: Number(row.rows),
    bytesOnDisk: Number(row.bytes),
  }));
}

export interface QueryTargets {
  objects: { objectId: string; ra: number; dec: number }[];
  /** JD range of the stored alerts. */
  minJd: number;
  maxJd: number;
  labels: string[];
}

/** Existing objects picked at random (a hash order), and the time range, for the queries to ask about. */
export async function sampleTargets(client: ClickHouseClient, count: number): Promise<QueryTargets> {
  const objects = await queryRows<{ object_id: string; ra: number; dec: number }>(
    client,
    sql`SELECT object_id, ra, dec FROM objects ORDER BY sipHash64(object_id) LIMIT ${count}`,
  );
  const [range] = await queryRows<{ min_jd: number; max_jd: number }>(
    client,
    sql`SELECT min(jd) AS min_jd, max(jd) AS max_jd FROM alerts_by_class`,
  );
  const labels = await queryRows<{ class: string }>(
    client,
    sql`SELECT DISTINCT class FROM alerts_by_class ORDER BY class`,
  );
  if (objects.length === 0 || range === undefined) throw new Error('the bench database holds no objects');
  return {
    objects: objects.map((row) => ({ objectId: row.object_id, ra: row.ra, dec: row.dec })),
    minJd: range.min_jd,
    maxJd: range.max_jd,
    labels: labels.map((row) => row.class),
  };
}

// ---- Live part: science messages as raw2science publishes them, and the subscribers' filters ----

export interface LiveMessage extends ScienceMessage {
  /** The alert id as the GraphQL API prints it. */
  alertId: string;
  /** The alert's record: what the filters read and the server's live feed decodes from the message. */
  record: ScienceRecord;
}

/**
 * `count` synthetic ZTF alerts as science messages: each alert's record (a label, classifier scores, its
 * light-curve features) as raw2science computes and publishes it, deterministic per seed.
 */
export function* liveMessages(seed: number, count: number): Generator<LiveMessage> {
  const decoder = createZtfDecoder();
  const rng = createPrng(deriveSeed(seed, 21));
  // Spread over 30 nights and count / 3 objects, as the e2e benchmark's stream.
  let i = 0;
  for (const synthetic of generateSyntheticAlerts({ seed, count })) {
    const { alert: ztf, schemaJson } = decoder.decodeWithSchema(synthetic.bytes);
    const alert = ztfToAlert(ztf, schemaJson);
    const label = pickLabel(rng.next());
    const solarSystem = label === 'Solar System MPC';
    const record = toScienceRecord(
      {
        alert: {
          ...alert,
          roid: solarSystem ? 3 : 0,
          ssName: solarSystem ? String(rng.int(1, 99_999)) : null,
          crossmatches: [],
          features: computeLightCurveFeatures(alert.points),
          classification: {
            label,
            scores: [
              { classifier: 'snn_sn_vs_all', version: '7.4.0', score: rng.next(), ...BENCH_MODEL },
              { classifier: 'rf_kn_vs_nonkn', version: '7.4.0', score: rng.next() * 0.2, ...BENCH_MODEL },
            ],
          },
          watchlistHits: [],
        },
        message: {
          topic: 'bench',
          partition: 0,
          offset: String(i++),
          key: null,
          value: null,
          headers: {},
          timestamp: 0,
          receivedAt: 0,
        },
      },
      new Date(Math.round((alert.jd - UNIX_EPOCH_JD) * 86_400_000)),
      'bench',
    );
    const message = encodeScienceRecord(record, { [SURVEY_HEADER]: 'ztf' });
    yield { ...message, alertId: record.alertId.toString(), record };
  }
}

/** A GraphQL AlertFilter input value (plain JSON, as a client sends it in its variables). */
export type AlertFilterInput = Record<string, unknown>;

/**
 * `count` distinct filters, the kinds users subscribe with: magnitude cuts, a band with a cut, a label, a
 * 1-degree cone around a field, rising and bright, compound or-filters. Thresholds come from the alerts' own
 * distribution so that each filter selects about 0.1% to 3% of the stream (on average ~1%): what a
 * subscriber watching a stream wants, and a delivery volume the one-process clients keep up with.
 */
export function liveFilters(
  records: readonly FilterRecord[],
  count: number,
  seed: number,
): AlertFilterInput[] {
  const rng = createPrng(deriveSeed(seed, 31));
  const mags = records
    .map((r) => r.mag)
    .filter((m): m is number => m !== null)
    .sort((a, b) => a - b);
  /** Magnitude below which a fraction q of the alerts lie. */
  const magAt = (q: number) => mags[Math.min(mags.length - 1, Math.floor(q * mags.length))]!;
  const errs = records
    .map((r) => r.magErr)
    .filter((m): m is number => m !== null)
    .sort((a, b) => a - b);
  /** Exact error values, so that each cut is distinct. */
  const errAt = (q: number) => errs[Math.min(errs.length - 1, Math.floor(q * errs.length))]!;
  const selectivity = () => 0.001 * 30 ** rng.next(); // log-uniform in [0.1%, 3%]
  const filters: AlertFilterInput[] = [];
  const seen = new Set<string>();
  const round = (x: number) => Math.round(x * 1000) / 1000;
  for (let attempt = 0; filters.length < count && attempt < count * 20; attempt++) {
    // By attempt, not by filters made: a duplicate moves on to the next kind instead of retrying its own.
    const kind = attempt % 6;
    let filter: AlertFilterInput;
    if (kind === 0) {
      filter = { mag: { max: round(magAt(selectivity())) } };
    } else if (kind === 1) {
      // One band carries about half the alerts.
      filter = {
        and: [{ band: [rng.chance(0.5) ? 'g' : 'r'] }, { mag: { max: round(magAt(2 * selectivity())) } }],
      };
    } else if (kind === 2) {
      const at = records[rng.int(0, records.length - 1)]!;
      filter = { cone: { ra: round(at.ra), dec: round(at.dec), radiusArcsec: 3600 } };
    } else if (kind === 3) {
      // A rare label, or a common one with a magnitude cut.
      const [label, share] = LABEL_WEIGHTS[rng.int(1, LABEL_WEIGHTS.length - 1)]!;
      filter = { label: [label], mag: { max: round(magAt(Math.min(1, selectivity() / share))) } };
    } else if (kind === 4) {
      filter = { rising: true, mag: { max: round(magAt(2 * selectivity())) } };
    } else {
      const field: FilterField = 'MAG_ERR';
      const op: ComparisonOp = 'LT';
      filter = {
        or: [{ label: ['Kilonova candidate'] }, { compare: [{ field, op, value: errAt(selectivity()) }] }],
      };
    }
    const key = JSON.stringify(filter);
    if (seen.has(key)) continue;
    seen.add(key);
    filters.push(filter);
  }
  if (filters.length < count) throw new Error(`only ${filters.length} distinct filters for ${count} asked`);
  return filters;
}
