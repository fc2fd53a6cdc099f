// Poison alerts: real ZTF and Rubin alerts from ../shared with decoded fields changed to values no producer should
// send (NaN, infinities, -0, negatives, extreme longs, huge and empty strings, control characters, dates before
// 1970 and after 2106, empty and 10,000-point histories, missing and oversized cutouts), encoded back into the
// bytes a Kafka message would carry. The unit fuzz test and the integration poison test share them.
import { readFileSync } from 'node:fs';
import { readRubinParquet } from '../../datasim/rubin.ts';
import {
  loadRubinSchema,
  encodeRubinAlert,
  rubinSchemaId,
  type LoadedRubinSchema,
  type RubinAlert,
} from '../../src/pipeline/decode/rubin-avro.ts';
import { createZtfDecoder, encodeZtfAlert, type ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { sharedPath, ztfAlertFiles } from './shared-data.ts';

export const RUBIN_SCHEMA_DIR = sharedPath('datasim', 'lsst', 'schema', '10', '0');

export interface ZtfSeed {
  record: ZtfAlert;
  schemaJson: string;
}

/** `count` real ZTF alerts spread over both schemas (3.3 of 2020, 4.02 of 2023), decoded. */
export function ztfSeeds(count: number): ZtfSeed[] {
  const files = ztfAlertFiles();
  const step = Math.max(1, Math.floor(files.length / count));
  const decoder = createZtfDecoder();
  return files
    .filter((_file, i) => i % step === 0)
    .slice(0, count)
    .map((file) => {
      const { alert, schemaJson } = decoder.decodeWithSchema(readFileSync(file));
      return { record: alert, schemaJson };
    });
}

export interface RubinSeeds {
  schema: LoadedRubinSchema;
  schemaId: number;
  alerts: RubinAlert[];
}

/** The 25 real Rubin alerts of January 2026 with the schema they are encoded with. */
export async function rubinSeeds(): Promise<RubinSeeds> {
  const schema = loadRubinSchema(RUBIN_SCHEMA_DIR);
  const alerts = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), {
    schema,
  });
  return { schema, schemaId: rubinSchemaId(schema.version), alerts };
}

/** A deep copy that keeps Buffers Buffers and bigints bigints (structuredClone turns Buffers into Uint8Arrays). */
export function cloneRecord<T>(value: T): T {
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => cloneRecord(item)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) copy[key] = cloneRecord(field);
    return copy as T;
  }
  return value;
}

const JD_1969 = 2440000.5;
const JD_2200 = 2524593.5;

/** Values for a number field (Avro int, float or double: the encoder refuses what its type cannot hold). */
export const NUMBER_POISON: readonly number[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  -1,
  0,
  -999,
  1e308,
  2 ** 63 - 1,
  -(2 ** 63),
  2 ** 64,
  2 ** 31 - 1,
  -(2 ** 31),
  JD_1969,
  JD_2200,
];

/** Values for a long field (Avro long is signed 64-bit: 2^64 cannot be sent). */
export const LONG_POISON: readonly bigint[] = [0n, -1n, -2n, 2n ** 63n - 1n, -(2n ** 63n), 1n];

/** Values for a string field. */
export const STRING_POISON: readonly string[] = [
  '',
  'x'.repeat(1_000_000),
  '\u0000\u0007\u001b[31m\r\n',
  '\ud800lone surrogate',
  'null',
  "'; DROP TABLE alerts; --",
];

/** A path into a decoded record: property names and array indexes. */
export type FieldPath = readonly (string | number)[];

/** Every scalar field of a record (numbers, bigints, strings, nulls), depth-first, histories included. */
export function scalarPaths(record: unknown, prefix: FieldPath = []): FieldPath[] {
  if (record === null || typeof record !== 'object' || Buffer.isBuffer(record)) return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(record)
    ? record.map((item, i): [number, unknown] => [i, item])
    : Object.entries(record);
  return entries.flatMap(([key, value]) => scalarPaths(value, [...prefix, key]));
}

export function getPath(record: unknown, path: FieldPath): unknown {
  let value: unknown = record;
  for (const key of path) value = (value as Record<string | number, unknown> | null)?.[key];
  return value;
}

export function setPath(record: unknown, path: FieldPath, value: unknown): void {
  let parent = record as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
}

/** The poison values fitting what the field holds now (a null field could be any type: every value is tried). */
export function poisonFor(current: unknown): readonly unknown[] {
  if (typeof current === 'bigint') return LONG_POISON;
  if (typeof current === 'number') return NUMBER_POISON;
  if (typeof current === 'string') return STRING_POISON;
  if (Buffer.isBuffer(current)) return [Buffer.alloc(0), randomBytes(10 * 1024 * 1024, 7)];
  return [...NUMBER_POISON, ...LONG_POISON, ...STRING_POISON];
}

/** Deterministic pseudo-random bytes (a fixed seed: the same corpus every run). */
export function randomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** The message value of a (possibly mutated) ZTF record; undefined when Avro cannot carry the change. */
export function encodeZtf(seed: ZtfSeed, record: ZtfAlert): Buffer | undefined {
  try {
    return encodeZtfAlert(record, seed.schemaJson);
  } catch {
    return undefined;
  }
}

/** The message value of a (possibly mutated) Rubin record; undefined when Avro cannot carry the change. */
export function encodeRubin(seeds: RubinSeeds, record: RubinAlert): Buffer | undefined {
  try {
    return encodeRubinAlert(record, seeds.schema, seeds.schemaId);
  } catch {
    return undefined;
  }
}

export interface PoisonCase {
  name: string;
  value: Buffer;
}

/** `count` copies of a history entry: a history far beyond any survey's. */
function longHistory<T>(entry: T, count: number): T[] {
  return Array.from({ length: count }, () => cloneRecord(entry));
}

/**
 * The poison corpus the issue lists, each case one message: the values an adversary sent to the demo stack that
 * stopped it, and the other shapes the fuzz test covers. Every case is a real alert with one thing changed.
 */
export function poisonCorpus(ztf: ZtfSeed, rubin: RubinSeeds): PoisonCase[] {
  const cases: PoisonCase[] = [];
  // Each case its own alert id (unless the id is what it changes): no case replaces the seed or another case.
  const uniqueId = (base: bigint): bigint => base + 1_000_000_000n + BigInt(cases.length);
  const ztfCase = (name: string, change: (record: ZtfAlert) => void): void => {
    const record = cloneRecord(ztf.record);
    record.candid = uniqueId(record.candid);
    record.candidate.candid = record.candid;
    change(record);
    const value = encodeZtf(ztf, record);
    if (value === undefined) throw new Error(`poison case ${name} cannot be encoded`);
    cases.push({ name, value });
  };
  const rubinCase = (name: string, change: (record: RubinAlert) => void): void => {
    const record = cloneRecord(rubin.alerts[0]!);
    record.diaSourceId = uniqueId(record.diaSourceId);
    record.diaSource.diaSourceId = record.diaSourceId;
    change(record);
    const value = encodeRubin(rubin, record);
    if (value === undefined) throw new Error(`poison case ${name} cannot be encoded`);
    cases.push({ name, value });
  };
  const candidate = (record: ZtfAlert) => record.candidate as unknown as Record<string, unknown>;
  ztfCase('ztf candid -1', (r) => {
    r.candid = -1n;
    r.candidate.candid = -1n;
  });
  ztfCase('ztf candid -2^63', (r) => {
    r.candid = -(2n ** 63n);
    r.candidate.candid = -(2n ** 63n);
  });
  ztfCase('ztf ra NaN', (r) => (candidate(r).ra = NaN));
  ztfCase('ztf ra 360', (r) => (candidate(r).ra = 360));
  ztfCase('ztf dec 91', (r) => (candidate(r).dec = 91));
  ztfCase('ztf jd 0', (r) => (candidate(r).jd = 0));
  ztfCase('ztf jd in 2200', (r) => (candidate(r).jd = JD_2200));
  ztfCase('ztf jd NaN', (r) => (candidate(r).jd = NaN));
  ztfCase('ztf jd before 1970', (r) => (candidate(r).jd = JD_1969));
  ztfCase('ztf magpsf -999', (r) => (candidate(r).magpsf = -999));
  ztfCase('ztf magpsf +Infinity', (r) => (candidate(r).magpsf = Infinity));
  ztfCase('ztf magpsf -Infinity', (r) => (candidate(r).magpsf = -Infinity));
  ztfCase('ztf sigmapsf NaN', (r) => (candidate(r).sigmapsf = NaN));
  ztfCase('ztf rb NaN', (r) => (candidate(r).rb = NaN));
  ztfCase('ztf objectId 1 MB', (r) => (r.objectId = 'ZTF'.repeat(350_000)));
  ztfCase('ztf objectId empty', (r) => (r.objectId = ''));
  ztfCase('ztf objectId control characters', (r) => (r.objectId = 'ZTF\u0000\n\u001b'));
  ztfCase('ztf ssnamenr 1 MB', (r) => (candidate(r).ssnamenr = 'x'.repeat(1_000_000)));
  ztfCase('ztf 10 MB random cutout', (r) => {
    r.cutoutScience = { fileName: 'random.fits.gz', stampData: randomBytes(10 * 1024 * 1024, 3) };
  });
  ztfCase('ztf missing cutouts', (r) => {
    r.cutoutScience = null;
    r.cutoutTemplate = null;
    r.cutoutDifference = null;
  });
  ztfCase('ztf empty history', (r) => (r.prv_candidates = []));
  ztfCase('ztf 10,000-point history', (r) => {
    const entry = r.prv_candidates?.[0];
    if (entry !== undefined) r.prv_candidates = longHistory(entry, 10_000);
  });
  ztfCase('ztf history magpsf -999 and Infinity', (r) => {
    for (const [i, entry] of (r.prv_candidates ?? []).entries()) {
      (entry as unknown as Record<string, unknown>).magpsf = i % 2 === 0 ? -999 : Infinity;
    }
  });
  ztfCase('ztf history candid -1 and jd NaN', (r) => {
    for (const entry of r.prv_candidates ?? []) {
      entry.candid = -1n;
      entry.jd = NaN;
    }
  });
  rubinCase('rubin diaSourceId -1', (r) => {
    r.diaSourceId = -1n;
    r.diaSource.diaSourceId = -1n;
  });
  rubinCase('rubin ra NaN', (r) => (r.diaSource.ra = NaN));
  rubinCase('rubin dec -91', (r) => (r.diaSource.dec = -91));
  rubinCase('rubin midpointMjdTai 0', (r) => (r.diaSource.midpointMjdTai = 0));
  rubinCase('rubin midpointMjdTai in 2200', (r) => (r.diaSource.midpointMjdTai = JD_2200 - 2400000.5));
  rubinCase('rubin psfFlux Infinity', (r) => (r.diaSource.psfFlux = Infinity));
  rubinCase('rubin psfFlux NaN', (r) => (r.diaSource.psfFlux = NaN));
  rubinCase('rubin diaObjectId -2^63', (r) => (r.diaSource.diaObjectId = -(2n ** 63n)));
  rubinCase('rubin 10 MB random cutout', (r) => (r.cutoutDifference = randomBytes(10 * 1024 * 1024, 5)));
  rubinCase('rubin 10,000-point history', (r) => {
    r.prvDiaSources = longHistory(r.diaSource, 10_000).map((source, i) => ({
      ...source,
      diaSourceId: source.diaSourceId + BigInt(i + 1),
      midpointMjdTai: source.midpointMjdTai - (i + 1) / 24,
    }));
  });
  return cases;
}
