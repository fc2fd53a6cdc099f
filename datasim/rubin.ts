// Real Rubin alerts for the simulator and tests: the Parquet export in ../shared/datasim/lsst, turned back into
// the Avro records the live stream carries, and framed as its Kafka messages (Confluent wire format).
//
// The Parquet file was written by a broker through pandas, which changed types on the way; each change is undone
// against the Avro schema, field by field, so that every record validates against it:
// - Avro int and long columns arrive as INT64 (bigint) or, inside structs where some rows were null, as DOUBLE.
//   Ints become numbers; longs become bigints. A DOUBLE long above 2^53 has lost its last digits
//   (diaObject.diaObjectId, ssSource.ssObjectId, ssSource.diaSourceId); those ids are restored from the exact
//   INT64 copy the alert carries elsewhere, after checking that the copy rounds to the same double.
// - Avro float columns arrive as DOUBLE: rounded to float32, which is what the Avro encoding would do anyway.
// - Columns that were null in every row are typed NULL; a null is kept only where the schema allows one.
// - Cutouts are unannotated BYTE_ARRAY; hyparquet's default would decode them as UTF-8 text, which is lossy.
// - Columns the broker added (brokerIngestMjd, lsst_schema_version) are not part of the alert and are dropped.
import path from 'node:path';
import type { Type as AvroType, types as avroTypes } from 'avsc';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { encodeRubinAlert, loadRubinSchema } from '../src/pipeline/decode/rubin-avro.ts';
import type { RubinAlert, RubinSchema } from '../src/pipeline/decode/rubin-avro.ts';

export interface ReadRubinParquetOptions {
  /**
   * The schema the rows are converted to and validated against. Default: the version the rows name in their
   * lsst_schema_version column ('lsst.v10_0'), from schema/{major}/{minor}/ next to the file (the shared layout).
   */
  schema?: RubinSchema;
}

/** Columns of the export that are the broker's bookkeeping, not alert fields. */
const BROKER_COLUMNS = new Set(['brokerIngestMjd', 'lsst_schema_version']);

/** Parquet timestamps as Avro timestamp-micros longs (hyparquet's default is a Date, which drops microseconds). */
const TIMESTAMPS_AS_MICROS = {
  timestampFromMilliseconds: (millis: bigint): bigint => millis * 1000n,
  timestampFromMicroseconds: (micros: bigint): bigint => micros,
  timestampFromNanoseconds: (nanos: bigint): bigint => nanos / 1000n,
};

export async function readRubinParquet(
  file: string,
  options: ReadRubinParquetOptions = {},
): Promise<RubinAlert[]> {
  const rows = (await parquetReadObjects({
    file: await asyncBufferFromFile(file),
    utf8: false,
    parsers: TIMESTAMPS_AS_MICROS,
  })) as Record<string, unknown>[];
  const schema = options.schema ?? schemaNextTo(file, rows);
  const fields = new Set((schema.type as avroTypes.RecordType).fields.map((field) => field.name));
  return rows.map((row, index) => {
    const where = `${path.basename(file)} row ${index}`;
    // A column the schema lacks means the file is of another version: converting would drop data silently.
    for (const key of Object.keys(row)) {
      if (!fields.has(key) && !BROKER_COLUMNS.has(key)) {
        throw new ParquetAlertError(`${where}: column ${key} is not in the alert schema`);
      }
    }
    const lossy: LossyLong[] = [];
    const alert = convert(schema.type, row, '', lossy, where) as RubinAlert;
    restoreExactIds(alert, lossy, where);
    if (!schema.type.isValid(alert)) {
      throw new ParquetAlertError(
        `${where}: converted alert does not validate: ${invalidPaths(schema.type, alert)}`,
      );
    }
    return alert;
  });
}

/** Each alert as the Kafka message value the Rubin stream would send: 0x00, schemaId (big-endian), Avro. */
export function rubinMessages(
  alerts: readonly RubinAlert[],
  schemaId: number,
  schema: RubinSchema,
): Buffer[] {
  return alerts.map((alert) => encodeRubinAlert(alert, schema, schemaId));
}

export class ParquetAlertError extends Error {
  override name = 'ParquetAlertError';
}

function schemaNextTo(file: string, rows: readonly Record<string, unknown>[]): RubinSchema {
  const versions = new Set(rows.map((row) => row.lsst_schema_version));
  const [only] = versions;
  const match = versions.size === 1 && typeof only === 'string' ? /^lsst\.v(\d+)_(\d+)$/.exec(only) : null;
  if (match === null || match[1] === undefined || match[2] === undefined) {
    throw new ParquetAlertError(
      `${file}: cannot tell the schema version from lsst_schema_version (${[...versions].map(String).join(', ')}); pass options.schema`,
    );
  }
  const dir = path.join(path.dirname(file), 'schema', match[1], match[2]);
  return loadRubinSchema(dir, `${match[1]}.${match[2]}`);
}

interface LossyLong {
  /** Field path from the alert's root, e.g. 'diaObject.diaObjectId'. */
  path: string;
  value: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The Parquet value `value` as the Avro type `type` expects it; `path` names the field in errors. */
function convert(
  type: AvroType,
  value: unknown,
  fieldPath: string,
  lossy: LossyLong[],
  where: string,
): unknown {
  const fail = (why: string): ParquetAlertError =>
    new ParquetAlertError(`${where}: ${fieldPath || 'alert'} ${why} (schema type ${type.typeName})`);
  if (value === null || value === undefined) {
    if (acceptsNull(type)) return null;
    throw fail('is null in Parquet but the schema does not allow null');
  }
  switch (type.typeName) {
    case 'union:unwrapped': {
      const branches = (type as avroTypes.UnwrappedUnionType).types.filter((t) => t.typeName !== 'null');
      const [branch] = branches;
      if (branches.length !== 1 || branch === undefined) throw fail('is a union of several non-null types');
      return convert(branch, value, fieldPath, lossy, where);
    }
    case 'record': {
      if (typeof value !== 'object' || Array.isArray(value)) throw fail(`is a ${typeof value}, not a struct`);
      const struct = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const field of (type as avroTypes.RecordType).fields) {
        const childPath = fieldPath ? `${fieldPath}.${field.name}` : field.name;
        out[field.name] = convert(field.type, struct[field.name], childPath, lossy, where);
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(value)) throw fail(`is a ${typeof value}, not a list`);
      const items = (type as avroTypes.ArrayType).itemsType;
      return value.map((item, i) => convert(items, item, `${fieldPath}[${i}]`, lossy, where));
    }
    case 'long':
    case 'abstract:long': {
      // abstract:long is the decoder's bigint long (avsc's LongType.__with).
      if (typeof value === 'bigint') return value;
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw fail(`is ${describe(value)}, not an integer`);
      if (!Number.isSafeInteger(value)) lossy.push({ path: fieldPath, value });
      return BigInt(value);
    }
    case 'int': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
        throw fail(`is ${describe(value)}, not a 32-bit integer`);
      }
      return n;
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number') throw fail(`is a ${typeof value}, not a number`);
      return type.typeName === 'float' ? Math.fround(value) : value;
    }
    case 'boolean':
    case 'string': {
      if (typeof value !== type.typeName) throw fail(`is a ${typeof value}`);
      return value;
    }
    case 'bytes': {
      if (!(value instanceof Uint8Array)) throw fail(`is a ${typeof value}, not bytes`);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    default:
      throw fail('has a type this reader does not convert');
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : `a ${typeof value}`;
}

function acceptsNull(type: AvroType): boolean {
  if (type.typeName === 'null') return true;
  return (
    type.typeName.startsWith('union') &&
    (type as avroTypes.UnwrappedUnionType).types.some((t) => t.typeName === 'null')
  );
}

/** Long fields that the export stored as doubles, and where the alert keeps the same id exactly. */
const EXACT_COPIES: Readonly<Record<string, (alert: RubinAlert) => bigint | null>> = {
  'diaObject.diaObjectId': (alert) => alert.diaSource.diaObjectId,
  'ssSource.diaSourceId': (alert) => alert.diaSourceId,
  'ssSource.ssObjectId': (alert) => alert.diaSource.ssObjectId,
};

function restoreExactIds(alert: RubinAlert, lossy: readonly LossyLong[], where: string): void {
  for (const { path: fieldPath, value } of lossy) {
    const exact = EXACT_COPIES[fieldPath]?.(alert);
    // The copy must be the same id: it has to round to the very double the export stored.
    if (exact === undefined || exact === null || Number(exact) !== value) {
      throw new ParquetAlertError(
        `${where}: ${fieldPath} was stored as the double ${value}, past 2^53, and no exact copy of it is known`,
      );
    }
    const [record, field] = fieldPath.split('.') as [string, string];
    (alert[record] as Record<string, unknown>)[field] = exact;
  }
}

function invalidPaths(type: AvroType, value: unknown): string {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (parts: string[]) => {
      if (paths.length < 5) paths.push(parts.join('.'));
    },
  });
  return paths.join(', ') || 'unknown reason';
}
