// The science topic's messages: the one record per alert (ScienceRecord, src/storage/science-store.ts) as
// schemaless Avro with the versioned schema of schema/avro/science-record-v<N>.avsc, keyed by object id (an
// object's alerts stay in one partition, in order). A header names the schema and its version, so a reader
// refuses what it cannot read instead of misreading it. No cutouts and no schema travel: they are in the raw
// archive, where distribution reads them for the alerts a filter selects.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import type { Type as AvroType } from 'avsc';
import { PROJECT_ROOT } from '../../project.ts';
import type { ScienceRecord } from '../../storage/science-store.ts';
import { BIGINT_LONG } from '../decode/bigint-long.ts';

export const SCIENCE_RECORD_VERSION = 2;
/** Header of every science message: `science-record/<version>`. */
export const RECORD_HEADER = 'fink-record';
const RECORD_HEADER_VALUE = `science-record/${SCIENCE_RECORD_VERSION}`;

export const SCIENCE_RECORD_SCHEMA_FILE = path.join(
  PROJECT_ROOT,
  'schema',
  'avro',
  `science-record-v${SCIENCE_RECORD_VERSION}.avsc`,
);

let type: AvroType | undefined;

/** The schema, parsed once: longs as bigints (alert ids exceed 2^53), nullable unions as plain values. */
function recordType(): AvroType {
  type ??= avsc.Type.forSchema(JSON.parse(readFileSync(SCIENCE_RECORD_SCHEMA_FILE, 'utf8')) as avsc.Schema, {
    registry: { long: BIGINT_LONG },
    wrapUnions: 'auto',
    omitRecordMethods: true,
  });
  return type;
}

export interface ScienceMessage {
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}

/** The message of a record; `headers` are added to the record's own. */
export function encodeScienceRecord(
  record: ScienceRecord,
  headers: Record<string, string> = {},
): ScienceMessage {
  const datum = { ...record, processedAt: BigInt(record.processedAt.getTime()) };
  return {
    key: Buffer.from(record.objectId, 'utf8'),
    value: recordType().toBuffer(datum),
    headers: { ...headers, [RECORD_HEADER]: RECORD_HEADER_VALUE },
  };
}

export class ScienceRecordError extends Error {
  override name = 'ScienceRecordError';
}

/** The record of a science message; a ScienceRecordError for anything else (another schema version, garbage). */
export function decodeScienceRecord(
  value: Buffer,
  headers: Record<string, string | undefined>,
): ScienceRecord {
  const version = headers[RECORD_HEADER];
  if (version !== RECORD_HEADER_VALUE) {
    throw new ScienceRecordError(
      `not a ${RECORD_HEADER_VALUE} message (${RECORD_HEADER}: ${String(version)})`,
    );
  }
  let datum: Omit<ScienceRecord, 'processedAt'> & { processedAt: bigint };
  try {
    datum = recordType().fromBuffer(value) as typeof datum;
  } catch (error) {
    throw new ScienceRecordError(`science record does not decode: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { ...datum, processedAt: new Date(Number(datum.processedAt)) };
}
