// Encodes a distributed alert the way the Fink broker publishes its `fink_<filter>_<survey>` topics, so that the
// real `fink-client` (AlertConsumer) reads our topics unchanged:
// - message value = the enriched alert as *schemaless* Avro (no container header, no Confluent framing);
// - message key = the writer schema of that value, as JSON text (UTF-8). fink-client parses the key with
//   `fastavro.parse_schema(json.loads(key))` and decodes the value with `fastavro.schemaless_reader`
//   (fink_client/consumer.py, AlertConsumer.process_message). The Fink broker does the same on its side:
//   fink_broker/common/distribution_utils.py puts `schema_converter.to_avro(df.schema)` in the key column
//   ("New (>= 2023/01): full schema") and Spark's to_avro of the row struct in the value column.
//
// The output schema = the survey's alert record, every field as the survey wrote it, followed by the fields this
// broker adds (DISTRIBUTION_FIELDS): first Fink's own, with Fink's names and types, in the order of the ZTF
// distribution schema fink-client 12.3.0 ships (schemas/distribution_schema_fink_ztf_2.7_3.10.1.avsc: cdsxmatch,
// DR3Name, Plx, e_Plx, gcvs, vsx, roid, rf_snia_vs_nonia, snn_snia_vs_nonia, snn_sn_vs_all, mulens, nalerthist,
// rf_kn_vs_nonkn, fink_broker_version, fink_science_version; each a ["<type>", "null"] union), so consumer code
// written for Fink's topics reads ours unchanged; then this broker's extras (finkclass, ssname, crossmatches,
// classifier_scores with provenance, lc_features, processed_at). It is built once per distinct writer schema and cached, because every
// message of a topic repeats it (8-23 KB for ZTF) and parsing costs milliseconds while encoding costs microseconds.
//
// Avro longs are bigints throughout (parseAlertSchema's long type): ZTF candid, pid and objectidps* exceed 2^53.
import { readFileSync } from 'node:fs';
import avsc from 'avsc';
import type { Type as AvroType } from 'avsc';
import { parseAlertSchema } from '../decode/ztf-avro.ts';

/** A catalogue counterpart found within the catalogue's cross-match radius. */
export interface DistributionCrossmatch {
  /** Catalogue name as users filter on it: 'gcvs', 'spicy', '3hsp', 'simbad', ... */
  catalog: string;
  /** The counterpart's identifier in that catalogue (text: catalogues mix numeric and named ids). */
  sourceId: string;
  /** Angular distance between the alert and the counterpart [arcsec]. */
  distanceArcsec: number;
  /** The catalogue's own class of the counterpart (GCVS VarType, SPICY class, ...), when it has one. */
  type: string | null;
}

/** One classifier's output for the alert. */
export interface DistributionClassifierScore {
  /** e.g. 'snn_snia_vs_nonia', 'rf_kn_vs_nonkn'. */
  classifier: string;
  /** Version of the model that produced the score, so that users can tell scores of different models apart. */
  version: string;
  /** Probability-like score in [0, 1]; null when the classifier did not apply (too few points, wrong band). */
  score: number | null;
  /** The model's file in the fink-science wheel; '' without a model (a heuristic). */
  modelFile: string;
  /** SHA-256 of that file as shipped; '' without a model. */
  modelSha256: string;
  /** The fink-science release of the model; '' for a classifier that is not Fink's. */
  finkScienceVersion: string;
}

/**
 * Fink's fields, named as Fink's distribution schema names them (wire names, not camelCase: they are Fink's
 * contract). Null where Fink has a value this broker cannot compute: DR3Name, Plx, e_Plx need Gaia DR3, which
 * is not loaded; a score is null on a survey it does not apply to.
 */
export interface FinkFields {
  /** SIMBAD type of the counterpart ('Unknown' without one): here, an overriding catalog's type. */
  cdsxmatch: string | null;
  DR3Name: string | null;
  Plx: number | null;
  e_Plx: number | null;
  /** GCVS type within 1.5" ('Unknown' without one). */
  gcvs: string | null;
  /** VSX type within 1.5" ('Unknown' without one). */
  vsx: string | null;
  rf_snia_vs_nonia: number | null;
  snn_snia_vs_nonia: number | null;
  snn_sn_vs_all: number | null;
  mulens: number | null;
  /** Detections the alert carries (candidate + prv_candidates, negative ones included). */
  nalerthist: number | null;
  rf_kn_vs_nonkn: number | null;
  fink_science_version: string | null;
}

/**
 * Light-curve summary over the alert's own history (the triggering detection plus prv_candidates).
 * Counts are always known (0 when none), so they are plain ints; every derived quantity is null when the
 * history does not determine it (no detection in the band, a single point for a rate).
 */
export interface DistributionLightCurveFeatures {
  /** Detections in g / r. */
  ndetG: number;
  ndetR: number;
  /** Upper limits (non-detections) in g / r. */
  nlimG: number;
  nlimR: number;
  /** Brightest (smallest) detected magnitude in g / r. */
  peakMagG: number | null;
  peakMagR: number | null;
  /** Latest detected magnitude in g / r. */
  lastMagG: number | null;
  lastMagR: number | null;
  /** lastMagG - lastMagR. */
  colorGR: number | null;
  /** Magnitude change per day between the last two detections in g / r (negative = brightening). */
  rateG: number | null;
  rateR: number | null;
  /** Days between the first and the last detection in any band. */
  durationDays: number | null;
  /** True when the latest detection is brighter than the previous one in the same band. */
  rising: boolean | null;
}

/** What this broker adds to a survey alert before distributing it. Plain data; see DISTRIBUTION_FIELDS. */
export interface DistributionEnrichment {
  /** Fink's fields, with Fink's names. */
  fink: FinkFields;
  /** Fink's summary class: 'SN candidate', 'Solar System MPC', 'Unknown', ... */
  finkclass: string;
  /** Fink's asteroid flag (0 = not an asteroid ... 3 = known MPC object); null when not computed. */
  roid: number | null;
  /** Name of the solar-system object the alert was matched to; null when none. */
  ssname: string | null;
  crossmatches: DistributionCrossmatch[];
  classifierScores: DistributionClassifierScore[];
  /** Null when the features were not computed (e.g. a survey without a history). */
  lcFeatures: DistributionLightCurveFeatures | null;
  /** When the broker finished processing the alert [Unix epoch milliseconds, integer]. */
  processedAt: number;
}

/** Fink's fields in the order and with the Avro types of fink-client's distribution schema 2.7 (ZTF 3.10.1). */
const FINK_FIELD_TYPES = [
  ['cdsxmatch', 'string'],
  ['DR3Name', 'string'],
  ['Plx', 'float'],
  ['e_Plx', 'float'],
  ['gcvs', 'string'],
  ['vsx', 'string'],
  ['roid', 'int'],
  ['rf_snia_vs_nonia', 'double'],
  ['snn_snia_vs_nonia', 'double'],
  ['snn_sn_vs_all', 'double'],
  ['mulens', 'double'],
  ['nalerthist', 'int'],
  ['rf_kn_vs_nonkn', 'double'],
  ['fink_broker_version', 'string'],
  ['fink_science_version', 'string'],
] as const;

/** The fields of FinkFields (roid and fink_broker_version come from elsewhere in the enrichment). */
const FINK_FIELD_KEYS = FINK_FIELD_TYPES.map(([name]) => name).filter(
  (name): name is keyof FinkFields => name !== 'roid' && name !== 'fink_broker_version',
);

/** This broker's fields after Fink's. */
const EXTRA_FIELD_NAMES = [
  'finkclass',
  'ssname',
  'crossmatches',
  'classifier_scores',
  'lc_features',
  'processed_at',
] as const;

/** Names of the top-level fields the broker appends; a survey schema already using one of them is refused. */
export const DISTRIBUTION_FIELD_NAMES = [
  ...FINK_FIELD_TYPES.map(([name]) => name),
  ...EXTRA_FIELD_NAMES,
] as const;

/** Namespace of the record types the broker adds: fully qualified, so no survey namespace can capture them. */
const NS = 'fink.distribution';

const nullable = (type: unknown): { type: unknown[]; default: null } => ({
  type: ['null', type],
  default: null,
});

/** LC feature fields: [Avro field name, key in DistributionLightCurveFeatures, Avro type, doc]. */
const LC_FEATURE_FIELDS = [
  ['ndet_g', 'ndetG', 'int', 'detections in g'],
  ['ndet_r', 'ndetR', 'int', 'detections in r'],
  ['nlim_g', 'nlimG', 'int', 'upper limits in g'],
  ['nlim_r', 'nlimR', 'int', 'upper limits in r'],
  ['peak_mag_g', 'peakMagG', nullable('double'), 'brightest detected magnitude in g'],
  ['peak_mag_r', 'peakMagR', nullable('double'), 'brightest detected magnitude in r'],
  ['last_mag_g', 'lastMagG', nullable('double'), 'latest detected magnitude in g'],
  ['last_mag_r', 'lastMagR', nullable('double'), 'latest detected magnitude in r'],
  ['color_gr', 'colorGR', nullable('double'), 'last_mag_g - last_mag_r'],
  ['rate_g', 'rateG', nullable('double'), 'mag/day between the last two g detections'],
  ['rate_r', 'rateR', nullable('double'), 'mag/day between the last two r detections'],
  ['duration_days', 'durationDays', nullable('double'), 'days between first and last detection'],
  ['rising', 'rising', nullable('boolean'), 'latest detection brighter than the previous one in its band'],
] as const satisfies readonly (readonly [string, keyof DistributionLightCurveFeatures, unknown, string])[];

/** The fields appended to the survey's alert record, in this order. Field names are the wire names. */
const DISTRIBUTION_FIELDS: readonly Record<string, unknown>[] = [
  // Fink's: ["<type>", "null"] without a default, exactly as in Fink's schema.
  ...FINK_FIELD_TYPES.map(([name, type]) => ({ name, type: [type, 'null'] })),
  { name: 'finkclass', type: 'string', doc: "Fink's summary classification of the alert" },
  { name: 'ssname', ...nullable('string'), doc: 'solar-system object the alert was matched to' },
  {
    name: 'crossmatches',
    type: {
      type: 'array',
      items: {
        type: 'record',
        name: `${NS}.crossmatch`,
        fields: [
          { name: 'catalog', type: 'string' },
          { name: 'source_id', type: 'string' },
          { name: 'distance_arcsec', type: 'double' },
          { name: 'type', ...nullable('string') },
        ],
      },
    },
    doc: 'catalogue counterparts within each catalogue radius',
  },
  {
    name: 'classifier_scores',
    type: {
      type: 'array',
      items: {
        type: 'record',
        name: `${NS}.classifier_score`,
        fields: [
          { name: 'classifier', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'score', ...nullable('double') },
          {
            name: 'model_file',
            type: 'string',
            doc: "the model's file in the fink-science wheel; '' without one",
          },
          { name: 'model_sha256', type: 'string', doc: "SHA-256 of that file; '' without a model" },
          {
            name: 'fink_science_version',
            type: 'string',
            doc: "the model's fink-science release; '' if none",
          },
        ],
      },
    },
    doc: 'one entry per classifier run on the alert',
  },
  {
    name: 'lc_features',
    ...nullable({
      type: 'record',
      name: `${NS}.lc_features`,
      fields: LC_FEATURE_FIELDS.map(([name, , type, doc]) =>
        typeof type === 'string' ? { name, type, doc } : { name, ...type, doc },
      ),
    }),
    doc: "light-curve summary over the alert's history",
  },
  {
    name: 'processed_at',
    type: { type: 'long', logicalType: 'timestamp-millis' },
    doc: 'when the broker finished processing the alert',
  },
];

export interface DistributionMessage {
  /** The output schema as JSON text (UTF-8): what fink-client parses. Shared between messages: do not mutate. */
  key: Buffer;
  /** The enriched alert, schemaless Avro. */
  value: Buffer;
}

export interface DistributionEncodeInput {
  /** The survey's writer schema of `record` (for ZTF, the alert record schema embedded in each container). */
  writerSchemaJson: string;
  /** The survey alert as decoded with that schema (longs as bigint). */
  record: Record<string, unknown>;
  /**
   * `record` encoded with the writer schema, when the caller has those bytes and the record is unchanged since
   * it was decoded from them (ztf-avro's sourceDatumOf). The survey's fields come first in the output schema,
   * and an Avro record is its fields one after the other, so the value is these bytes followed by the broker's
   * fields: copied, not encoded again.
   */
  recordDatum?: Buffer | undefined;
  enrichment: DistributionEnrichment;
}

export interface DistributionEncoder {
  encode(input: DistributionEncodeInput): DistributionMessage;
  /** The output schema JSON for a survey writer schema (what goes in every message key). */
  outputSchemaJson(writerSchemaJson: string): string;
  /** Output schemas built so far: each distinct writer schema is built and parsed once. */
  readonly builtSchemas: number;
}

export interface DistributionEncoderOptions {
  /** Written to fink_broker_version in every message; this package's version by default. */
  brokerVersion?: string;
}

let packageVersion: string | undefined;

/** This package's version (package.json), read once. */
export function brokerPackageVersion(): string {
  packageVersion ??= (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return packageVersion;
}

/** Writer schemas kept built; past this (a misbehaving producer) the cache starts over rather than grow. */
const MAX_CACHED_SCHEMAS = 16;

interface OutputSchema {
  json: string;
  key: Buffer;
  type: AvroType;
  /** The Avro type of processed_at: decides whether it takes a bigint or a number (see timestampValue). */
  processedAtType: AvroType;
}

/** Initial size of the encoder's scratch buffer; it grows to the largest message seen. */
const SCRATCH_BYTES = 256 * 1024;

export function createDistributionEncoder(options: DistributionEncoderOptions = {}): DistributionEncoder {
  const brokerVersion = options.brokerVersion ?? brokerPackageVersion();
  const schemas = new Map<string, OutputSchema>();
  let built = 0;
  // avsc's toBuffer() writes into a shared 1 KB buffer, and when the value does not fit (an alert is 50-100 KB)
  // allocates a zero-filled buffer and writes the whole value a second time. Encoding into a buffer that fits
  // the largest alert seen and copying the bytes out writes each value once.
  let scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** `datum` encoded with `type`, after `prefix` (bytes already encoded) when given. */
  function toBuffer(type: AvroType, datum: unknown, prefix?: Buffer): Buffer {
    let end = type.encode(datum, scratch, 0);
    if (end < 0) {
      // encode() returns minus the number of missing bytes.
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
      end = type.encode(datum, scratch, 0);
    }
    const start = prefix?.length ?? 0;
    const value = Buffer.allocUnsafe(start + end);
    prefix?.copy(value, 0);
    scratch.copy(value, start, 0, end);
    return value;
  }
  let brokerFields: BrokerFieldsType | undefined;

  function outputFor(writerSchemaJson: string): OutputSchema {
    let output = schemas.get(writerSchemaJson);
    if (output === undefined) {
      if (schemas.size >= MAX_CACHED_SCHEMAS) schemas.clear();
      output = buildOutputSchema(writerSchemaJson);
      schemas.set(writerSchemaJson, output);
      built++;
    }
    return output;
  }

  return {
    encode: function encodeDistributedAlert({ writerSchemaJson, record, recordDatum, enrichment }) {
      const output = outputFor(writerSchemaJson);
      if (recordDatum !== undefined) {
        brokerFields ??= parseBrokerFieldsType();
        const fields = {
          ...enrichmentToAvro(enrichment, brokerFields.processedAtType),
          fink_broker_version: brokerVersion,
        };
        let value: Buffer;
        try {
          value = toBuffer(brokerFields.type, fields, recordDatum);
        } catch (err) {
          throw new TypeError(
            `alert ${String(record.candid ?? record.objectId)} has broker fields that do not fit the ` +
              `distribution schema: ${invalidPaths(brokerFields.type, fields)}`,
            { cause: err },
          );
        }
        return { key: output.key, value };
      }
      const datum = {
        ...record,
        ...enrichmentToAvro(enrichment, output.processedAtType),
        fink_broker_version: brokerVersion,
      };
      let value: Buffer;
      try {
        value = toBuffer(output.type, datum);
      } catch (err) {
        throw new TypeError(
          `alert ${String(record.candid ?? record.objectId)} does not fit the distribution schema: ` +
            invalidPaths(output.type, datum),
          { cause: err },
        );
      }
      return { key: output.key, value };
    },
    outputSchemaJson: (writerSchemaJson) => outputFor(writerSchemaJson).json,
    get builtSchemas() {
      return built;
    },
  };
}

export interface DecodedDistributionMessage {
  /** The output schema the key carried. */
  schemaJson: string;
  /** The survey alert, without the broker's fields. */
  record: Record<string, unknown>;
  enrichment: DistributionEnrichment;
  brokerVersion: string;
}

/**
 * A distribution-format message's schema (the key), parsed once: what readers of the distribution topics (tests,
 * tools) read each message with, as fink-client does.
 */
export interface DistributionSchema {
  /**
   * One Buffer for every message whose key has these bytes. The producer's partitioner remembers the partition
   * of a key per Buffer (CachingPartitioner): republishing each message's own copy of a 10-22 KB key would hash
   * it again, ~7 ms of CPU each.
   */
  key: Buffer;
  json: string;
  /** The whole message: the survey alert and the broker's fields. */
  decode(value: Buffer): DecodedDistributionMessage;
}

/** Schemas seen, by key bytes (compared with memcmp, cheaper than hashing a 20 KB string per message). */
const readSchemas: DistributionSchema[] = [];

/** The schema a message key carries; parsed on first sight, then found by comparing bytes. */
export function distributionSchemaOf(key: Buffer | string): DistributionSchema {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  for (const known of readSchemas) {
    if (known.key.length === bytes.length && known.key.equals(bytes)) return known;
  }
  if (readSchemas.length >= MAX_CACHED_SCHEMAS) readSchemas.length = 0;
  const schema = readerFor(bytes.toString('utf8'));
  readSchemas.push(schema);
  return schema;
}

/**
 * Reads a message encoded by a DistributionEncoder (the schema comes from the key, as fink-client does).
 * Keeps the last few schemas parsed.
 */
export function decodeDistributionMessage(key: Buffer | string, value: Buffer): DecodedDistributionMessage {
  return distributionSchemaOf(key).decode(value);
}

function readerFor(schemaJson: string): DistributionSchema {
  const output = parseOutputSchema(schemaJson);
  return {
    key: output.key,
    json: schemaJson,
    decode: (value) => {
      // fromBuffer throws on a truncated value and on trailing bytes: key and value do not belong together.
      const datum = output.type.fromBuffer(value) as Record<string, unknown>;
      const record: Record<string, unknown> = {};
      for (const [field, fieldValue] of Object.entries(datum)) {
        if (!(DISTRIBUTION_FIELD_NAMES as readonly string[]).includes(field)) record[field] = fieldValue;
      }
      return {
        schemaJson,
        record,
        enrichment: enrichmentFromAvro(datum),
        brokerVersion: datum.fink_broker_version as string,
      };
    },
  };
}

function buildOutputSchema(writerSchemaJson: string): OutputSchema {
  // parseAlertSchema validates the survey schema (and drops ZTF 3.3's invalid union defaults); its export has
  // fully qualified names everywhere, so the record can be renamed without changing how nested names resolve.
  const alertSchema = parseAlertSchema(writerSchemaJson).schema({ exportAttrs: true });
  if (typeof alertSchema !== 'object' || alertSchema === null || Array.isArray(alertSchema)) {
    throw new TypeError('the survey writer schema must be a record schema');
  }
  const alert = alertSchema as { type?: unknown; name?: unknown; fields?: unknown };
  if (alert.type !== 'record' || typeof alert.name !== 'string' || !Array.isArray(alert.fields)) {
    throw new TypeError('the survey writer schema must be a record schema');
  }
  const taken = (alert.fields as { name: string }[])
    .map((field) => field.name)
    .filter((name) => (DISTRIBUTION_FIELD_NAMES as readonly string[]).includes(name));
  if (taken.length > 0) {
    throw new TypeError(`the survey schema already has field(s) the broker adds: ${taken.join(', ')}`);
  }
  const output = {
    ...alert,
    // A schema with more fields gets its own name: a consumer that registers named types (Java, avsc) must not
    // confuse it with the survey's. The namespace (before the last dot) is kept.
    name: alert.name.replace(/([^.]+)$/, 'fink_$1'),
    doc: `${alert.name} as distributed by the Fink broker: the survey alert followed by the broker's fields`,
    fields: [...(alert.fields as unknown[]), ...DISTRIBUTION_FIELDS],
  };
  return parseOutputSchema(JSON.stringify(output));
}

interface BrokerFieldsType {
  /** A record of DISTRIBUTION_FIELDS alone: encodes to the bytes that follow the survey's fields in the output. */
  type: AvroType;
  processedAtType: AvroType;
}

function parseBrokerFieldsType(): BrokerFieldsType {
  const type = parseAlertSchema(
    JSON.stringify({ type: 'record', name: `${NS}.broker_fields`, fields: DISTRIBUTION_FIELDS }),
  );
  const processedAt = type instanceof avsc.types.RecordType ? type.field('processed_at') : undefined;
  if (processedAt === undefined) throw new TypeError('the broker fields have no processed_at field');
  return { type, processedAtType: processedAt.type };
}

function parseOutputSchema(json: string): OutputSchema {
  const type = parseAlertSchema(json);
  // avsc's field() returns undefined for an unknown name, whatever its typings say.
  const processedAt = type instanceof avsc.types.RecordType ? type.field('processed_at') : undefined;
  if (processedAt === undefined)
    throw new TypeError('not a distribution schema: it has no processed_at field');
  return { json, key: Buffer.from(json, 'utf8'), type, processedAtType: processedAt.type };
}

/**
 * avsc applies the bigint long type only to longs written as the bare string "long"; the object form that a
 * logical type needs ({"type": "long", "logicalType": ...}) gets avsc's number-valued long. Ask the type.
 */
function timestampValue(type: AvroType, ms: number): bigint | number {
  if (!Number.isSafeInteger(ms)) throw new TypeError(`processedAt must be an integer epoch in ms, got ${ms}`);
  return type.isValid(ms) ? ms : BigInt(ms);
}

function enrichmentToAvro(
  enrichment: DistributionEnrichment,
  processedAtType: AvroType,
): Record<string, unknown> {
  const features = enrichment.lcFeatures;
  return {
    ...enrichment.fink,
    finkclass: enrichment.finkclass,
    roid: enrichment.roid,
    ssname: enrichment.ssname,
    crossmatches: enrichment.crossmatches.map((match) => ({
      catalog: match.catalog,
      source_id: match.sourceId,
      distance_arcsec: match.distanceArcsec,
      type: match.type,
    })),
    classifier_scores: enrichment.classifierScores.map((score) => ({
      classifier: score.classifier,
      version: score.version,
      score: score.score,
      model_file: score.modelFile,
      model_sha256: score.modelSha256,
      fink_science_version: score.finkScienceVersion,
    })),
    lc_features:
      features === null
        ? null
        : Object.fromEntries(LC_FEATURE_FIELDS.map(([avroName, key]) => [avroName, features[key]])),
    processed_at: timestampValue(processedAtType, enrichment.processedAt),
  };
}

interface AvroEnrichment {
  finkclass: string;
  roid: number | null;
  ssname: string | null;
  crossmatches: { catalog: string; source_id: string; distance_arcsec: number; type: string | null }[];
  classifier_scores: {
    classifier: string;
    version: string;
    score: number | null;
    model_file: string;
    model_sha256: string;
    fink_science_version: string;
  }[];
  lc_features: Record<string, number | boolean | null> | null;
  processed_at: bigint | number;
}

function enrichmentFromAvro(datum: Record<string, unknown>): DistributionEnrichment {
  const avro = datum as unknown as AvroEnrichment;
  const features = avro.lc_features;
  return {
    fink: Object.fromEntries(
      FINK_FIELD_KEYS.map((key) => [key, datum[key] ?? null]),
    ) as unknown as FinkFields,
    finkclass: avro.finkclass,
    roid: avro.roid,
    ssname: avro.ssname,
    crossmatches: avro.crossmatches.map((match) => ({
      catalog: match.catalog,
      sourceId: match.source_id,
      distanceArcsec: match.distance_arcsec,
      type: match.type,
    })),
    classifierScores: avro.classifier_scores.map((score) => ({
      classifier: score.classifier,
      version: score.version,
      score: score.score,
      modelFile: score.model_file,
      modelSha256: score.model_sha256,
      finkScienceVersion: score.fink_science_version,
    })),
    lcFeatures:
      features === null
        ? null
        : (Object.fromEntries(
            LC_FEATURE_FIELDS.map(([avroName, key]) => [key, features[avroName]]),
          ) as unknown as DistributionLightCurveFeatures),
    processedAt: Number(avro.processed_at),
  };
}

function invalidPaths(type: AvroType, value: unknown): string {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[]) => {
      if (paths.length < 5) paths.push(path.join('.'));
    },
  });
  return paths.length > 0 ? `invalid field(s) ${paths.join(', ')}` : 'unknown reason';
}
