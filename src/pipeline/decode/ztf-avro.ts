// Decodes ZTF alert messages: one Avro container file per Kafka message, writer schema embedded.
//
// Three traps shape this module (see ../shared/README.md):
// - candid, pid, objectidps* exceed 2^53, so every Avro long decodes to a bigint, never a number.
// - ZTF schema 3.3 declares unions like ["float","null"] with default null. The Avro spec wants a union default
//   to match the first branch, so avsc refuses the schema. Defaults only matter when a reader schema resolves a
//   field the writer lacks; we always decode with the writer's own schema, so dropping those defaults changes
//   nothing about the bytes. Reordering the branches instead would silently change the branch index mapping.
// - Every message repeats the same 8-23 KB schema. Parsing it costs milliseconds, decoding a datum tens of
//   microseconds, so parsed types are cached by the schema bytes (compared byte for byte: no hash collisions).
//
// Avro bytes (the cutouts, most of an alert) decode to views into the message instead of copies: the pipeline
// holds the message for as long as the alert anyway, and decoding is ~20% faster without the copies.
import avsc from 'avsc';
import type { Type as AvroType } from 'avsc';
import {
  AvroContainerError,
  decodeBlock,
  readAvroBlocks,
  readAvroContainerHeader,
  writeAvroContainer,
} from './avro-container.ts';
import type { AvroContainerErrorReason } from './avro-container.ts';
import { BIGINT_LONG } from './bigint-long.ts';
import { setLongestString } from './string-lengths.ts';

/** The alert's triggering detection. Nullable fields are those either schema (3.3 or 4.02) lets be null. */
export interface ZtfCandidate {
  /** Observation Julian date at start of exposure [days]. */
  jd: number;
  /** Filter: 1 = g, 2 = r, 3 = i. */
  fid: number;
  pid: bigint;
  diffmaglim: number | null;
  pdiffimfilename: string | null;
  programpi: string | null;
  /** 1 = public, 2 = partnership, 3 = Caltech. */
  programid: number;
  candid: bigint;
  /** 't' or '1': positive subtraction (brighter than the reference); 'f' or '0': negative. */
  isdiffpos: string;
  tblid: bigint | null;
  nid: number | null;
  rcid: number | null;
  field: number | null;
  xpos: number | null;
  ypos: number | null;
  ra: number;
  dec: number;
  magpsf: number;
  sigmapsf: number;
  chipsf: number | null;
  magap: number | null;
  sigmagap: number | null;
  distnr: number | null;
  magnr: number | null;
  sigmagnr: number | null;
  chinr: number | null;
  sharpnr: number | null;
  sky: number | null;
  magdiff: number | null;
  fwhm: number | null;
  classtar: number | null;
  mindtoedge: number | null;
  magfromlim: number | null;
  seeratio: number | null;
  aimage: number | null;
  bimage: number | null;
  aimagerat: number | null;
  bimagerat: number | null;
  elong: number | null;
  nneg: number | null;
  nbad: number | null;
  rb: number | null;
  /** Distance to the nearest known solar-system object [arcsec]; -999 when none was searched. */
  ssdistnr: number | null;
  ssmagnr: number | null;
  /** Name of the nearest known solar-system object; ZTF writes the string 'null' when there is none. */
  ssnamenr: string | null;
  sumrat: number | null;
  magapbig: number | null;
  sigmagapbig: number | null;
  ranr: number | null;
  decnr: number | null;
  sgmag1: number | null;
  srmag1: number | null;
  simag1: number | null;
  szmag1: number | null;
  sgscore1: number | null;
  distpsnr1: number | null;
  ndethist: number | null;
  ncovhist: number | null;
  jdstarthist: number | null;
  jdendhist: number | null;
  scorr: number | null;
  tooflag: number | null;
  objectidps1: bigint | null;
  objectidps2: bigint | null;
  sgmag2: number | null;
  srmag2: number | null;
  simag2: number | null;
  szmag2: number | null;
  sgscore2: number | null;
  distpsnr2: number | null;
  objectidps3: bigint | null;
  sgmag3: number | null;
  srmag3: number | null;
  simag3: number | null;
  szmag3: number | null;
  sgscore3: number | null;
  distpsnr3: number | null;
  nmtchps: number | null;
  rfid: bigint | null;
  jdstartref: number | null;
  jdendref: number | null;
  nframesref: number | null;
  rbversion: string | null;
  dsnrms: number | null;
  ssnrms: number | null;
  dsdiff: number | null;
  magzpsci: number | null;
  magzpsciunc: number | null;
  magzpscirms: number | null;
  nmatches: number | null;
  clrcoeff: number | null;
  clrcounc: number | null;
  zpclrcov: number | null;
  zpmed: number | null;
  clrmed: number | null;
  clrrms: number | null;
  neargaia: number | null;
  neargaiabright: number | null;
  maggaia: number | null;
  maggaiabright: number | null;
  exptime: number | null;
  drb: number | null;
  drbversion: string | null;
  /** Fields a later schema adds stay reachable: the decoder returns the record as decoded. */
  [field: string]: unknown;
}

/** An earlier detection (candid set) or upper limit (candid null, magpsf null) at the same position. */
export interface ZtfPrvCandidate {
  jd: number;
  fid: number | null;
  pid: bigint | null;
  diffmaglim: number | null;
  pdiffimfilename: string | null;
  programpi: string | null;
  programid: number | null;
  candid: bigint | null;
  isdiffpos: string | null;
  tblid: bigint | null;
  nid: number | null;
  rcid: number | null;
  field: number | null;
  xpos: number | null;
  ypos: number | null;
  ra: number | null;
  dec: number | null;
  magpsf: number | null;
  sigmapsf: number | null;
  chipsf: number | null;
  magap: number | null;
  sigmagap: number | null;
  distnr: number | null;
  magnr: number | null;
  sigmagnr: number | null;
  chinr: number | null;
  sharpnr: number | null;
  sky: number | null;
  magdiff: number | null;
  fwhm: number | null;
  classtar: number | null;
  mindtoedge: number | null;
  magfromlim: number | null;
  seeratio: number | null;
  aimage: number | null;
  bimage: number | null;
  aimagerat: number | null;
  bimagerat: number | null;
  elong: number | null;
  nneg: number | null;
  nbad: number | null;
  rb: number | null;
  ssdistnr: number | null;
  ssmagnr: number | null;
  ssnamenr: string | null;
  sumrat: number | null;
  magapbig: number | null;
  sigmagapbig: number | null;
  ranr: number | null;
  decnr: number | null;
  scorr: number | null;
  magzpsci: number | null;
  magzpsciunc: number | null;
  magzpscirms: number | null;
  clrcoeff: number | null;
  clrcounc: number | null;
  rbversion: string | null;
  [field: string]: unknown;
}

export interface ZtfCutout {
  fileName: string | null;
  /**
   * A gzipped FITS image (63x63, BITPIX -32 in the real stream). A view into the decoded message, not a copy:
   * it keeps the message's bytes alive, and changes to one show in the other.
   */
  stampData: Buffer;
}

export interface ZtfAlert {
  schemavsn: string | null;
  publisher: string | null;
  /** 'ZTF' + 2-digit year + 7 lowercase letters. */
  objectId: string;
  candid: bigint;
  candidate: ZtfCandidate;
  /** Up to 30 days of history, oldest first; null when the producer sent none. */
  prv_candidates: ZtfPrvCandidate[] | null;
  cutoutScience: ZtfCutout | null;
  cutoutTemplate: ZtfCutout | null;
  cutoutDifference: ZtfCutout | null;
  [field: string]: unknown;
}

export type ZtfDecodeErrorReason =
  | AvroContainerErrorReason
  /** The embedded writer schema is not JSON or not a schema avsc accepts even after the default fix. */
  | 'invalid-schema'
  /** The container holds no alert, or more than one. */
  | 'not-one-alert'
  /** A field every alert must have (objectId, candid, candidate.jd, ...) is null or of the wrong type. */
  | 'missing-field';

/** Everything decode() can throw for a bad message; `reason` is what the dead-letter topic records. */
export class ZtfDecodeError extends Error {
  override name = 'ZtfDecodeError';
  readonly reason: ZtfDecodeErrorReason;

  constructor(reason: ZtfDecodeErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export interface ZtfDecoder {
  decode(message: Buffer): ZtfAlert;
  /** The alert and its writer schema as text (the same string for every message of that schema). */
  decodeWithSchema(message: Buffer): { alert: ZtfAlert; schemaJson: string };
  /** Writer schemas parsed so far: each distinct schema is parsed once, however many messages carry it. */
  readonly parsedSchemas: number;
}

export function createZtfDecoder(): ZtfDecoder {
  const types = new SchemaTypeCache();
  function decodeWithSchema(message: Buffer): { alert: ZtfAlert; schemaJson: string } {
    const values: unknown[] = [];
    let schemaJson: string;
    let datum: Buffer | undefined;
    let measured: boolean;
    try {
      const header = readAvroContainerHeader(message);
      const { type, json, stringsMeasured } = types.get(header.schemaBytes);
      schemaJson = json;
      measured = stringsMeasured;
      longestRead = 0;
      for (const block of readAvroBlocks(message, header)) {
        decodeBlock(block, type, values);
        // decodeBlock checked that the datums fill the block exactly: a block of one datum is that datum.
        if (block.count === 1) datum = block.data;
      }
    } catch (err) {
      if (err instanceof AvroContainerError) {
        throw new ZtfDecodeError(err.reason, err.message, { cause: err });
      }
      throw err;
    }
    if (values.length !== 1) {
      throw new ZtfDecodeError('not-one-alert', `container holds ${values.length} records, expected 1 alert`);
    }
    const { alert, exact } = checkAlert(values[0]);
    if (exact && datum !== undefined) SOURCE_DATUMS.set(alert, datum);
    // checkAlert only removes values (null history entries, cutouts without bytes): the bound still holds.
    if (measured) setLongestString(alert, longestRead);
    return { alert, schemaJson };
  }
  return {
    decode: (message) => decodeWithSchema(message).alert,
    decodeWithSchema,
    get parsedSchemas() {
      return types.parsed;
    },
  };
}

/** The Avro datum each decoded alert was read from, while the record is still exactly what it decodes to. */
const SOURCE_DATUMS = new WeakMap<ZtfAlert, Buffer>();

/**
 * The Avro bytes `alert` was decoded from (a view into its message), for an encoder that would otherwise write
 * the same record again with the same writer schema: distribution.ts copies them instead of encoding
 * the record anew. Undefined for an alert this module did not decode, or one that decoding normalised (null
 * history entries dropped, a cutout without bytes nulled), whose bytes no longer match the record. The pipeline
 * never changes a decoded record (stages add fields to the Alert, not to the survey's record); whoever does
 * must not use these bytes for it.
 */
export function sourceDatumOf(alert: ZtfAlert): Buffer | undefined {
  return SOURCE_DATUMS.get(alert);
}

export interface ZtfEncodeOptions {
  /** Fixes the container's sync marker so that the same alert always encodes to the same bytes. */
  syncMarker?: Buffer;
}

export interface ZtfEncoder {
  /** A container file holding the alert, its schema embedded, exactly as the ZTF stream carries one. */
  encode(alert: ZtfAlert, options?: ZtfEncodeOptions): Buffer;
}

/** An encoder bound to one writer schema, parsed once. */
export function createZtfEncoder(schemaJson: string): ZtfEncoder {
  const type = parseAlertSchema(schemaJson);
  return {
    encode: function encodeZtfAlertWithSchema(alert: ZtfAlert, options: ZtfEncodeOptions = {}): Buffer {
      let datum: Buffer;
      try {
        datum = type.toBuffer(alert);
      } catch (err) {
        throw new TypeError(`alert ${alert.candid} does not fit the schema: ${invalidPaths(type, alert)}`, {
          cause: err,
        });
      }
      return writeAvroContainer(
        schemaJson,
        [datum],
        options.syncMarker ? { syncMarker: options.syncMarker } : {},
      );
    },
  };
}

const encoders = new Map<string, ZtfEncoder>();
const MAX_CACHED_ENCODERS = 8;

/** One-off convenience over createZtfEncoder; keeps the last few schemas parsed. */
export function encodeZtfAlert(alert: ZtfAlert, schemaJson: string, options?: ZtfEncodeOptions): Buffer {
  let encoder = encoders.get(schemaJson);
  if (encoder === undefined) {
    if (encoders.size >= MAX_CACHED_ENCODERS) encoders.clear();
    encoder = createZtfEncoder(schemaJson);
    encoders.set(schemaJson, encoder);
  }
  return encoder.encode(alert, options);
}

/**
 * Parses a ZTF alert schema the way the decoder does: bigint longs, 3.3's invalid union defaults dropped,
 * unions of null and one type as plain values (null or the value), records without avsc's methods.
 */
export function parseAlertSchema(schemaJson: string): AvroType {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaJson);
  } catch (err) {
    throw new ZtfDecodeError('invalid-schema', `writer schema is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  dropInvalidUnionDefaults(schema);
  try {
    return avsc.Type.forSchema(schema as avsc.Schema, {
      // A fresh registry per parse: avsc registers the schema's named types in it.
      registry: { long: BIGINT_LONG, bytes: VIEW_BYTES, string: MEASURED_STRING },
      wrapUnions: 'auto',
      omitRecordMethods: true,
    });
  } catch (err) {
    throw new ZtfDecodeError('invalid-schema', `writer schema is not valid Avro: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Removes a field default that does not match the first branch of its union (3.3's null after "float").
 * Mutates the freshly parsed schema, which nobody else holds.
 */
function dropInvalidUnionDefaults(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropInvalidUnionDefaults(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as { fields?: unknown; items?: unknown; values?: unknown };
  if (Array.isArray(record.fields)) {
    for (const field of record.fields as unknown[]) {
      if (typeof field !== 'object' || field === null) continue;
      const f = field as { type?: unknown; default?: unknown };
      if (Array.isArray(f.type) && 'default' in f && f.default === null && f.type[0] !== 'null') {
        delete f.default;
      }
      dropInvalidUnionDefaults(f.type);
    }
  }
  dropInvalidUnionDefaults(record.items);
  dropInvalidUnionDefaults(record.values);
}

/** Distinct schemas kept parsed; past this (a misbehaving producer) the cache starts over rather than grow. */
const MAX_CACHED_SCHEMAS = 32;

interface CachedSchema {
  /** A copy: the message's bytes must not be kept alive by the cache. */
  bytes: Buffer;
  /** The schema as text, one string per schema: downstream caches keyed by it hit on identity. */
  json: string;
  /** The parsed type, or why it does not parse: a bad schema repeated on every message is rejected cheaply. */
  result: AvroType | ZtfDecodeError;
  /** Every string its records hold is read by MEASURED_STRING (readsStringsMeasured). */
  stringsMeasured: boolean;
}

/** Parsed types keyed by the exact schema bytes; the last hit is checked first (one schema per stream). */
class SchemaTypeCache {
  private readonly byLength = new Map<number, CachedSchema[]>();
  private entries = 0;
  private last: CachedSchema | undefined;
  /** Schemas parsed since creation. */
  parsed = 0;

  get(schemaBytes: Buffer): { type: AvroType; json: string; stringsMeasured: boolean } {
    let entry = this.last;
    if (entry === undefined || !entry.bytes.equals(schemaBytes)) {
      entry = this.byLength.get(schemaBytes.length)?.find((cached) => cached.bytes.equals(schemaBytes));
      entry ??= this.add(schemaBytes);
      this.last = entry;
    }
    if (entry.result instanceof ZtfDecodeError) throw entry.result;
    return { type: entry.result, json: entry.json, stringsMeasured: entry.stringsMeasured };
  }

  private add(schemaBytes: Buffer): CachedSchema {
    if (this.entries >= MAX_CACHED_SCHEMAS) {
      this.byLength.clear();
      this.entries = 0;
    }
    let result: AvroType | ZtfDecodeError;
    try {
      result = parseAlertSchema(schemaBytes.toString('utf8'));
    } catch (err) {
      if (!(err instanceof ZtfDecodeError)) throw err;
      result = err;
    }
    this.parsed++;
    const json = schemaBytes.toString('utf8');
    const stringsMeasured = !(result instanceof ZtfDecodeError) && readsStringsMeasured(result, new Set());
    const entry = { bytes: Buffer.from(schemaBytes), json, result, stringsMeasured };
    const sameLength = this.byLength.get(schemaBytes.length);
    if (sameLength === undefined) this.byLength.set(schemaBytes.length, [entry]);
    else sameLength.push(entry);
    this.entries++;
    return entry;
  }
}

/** What VIEW_BYTES uses of avsc's Tap (its reading position over the buffer being decoded). */
interface AvscTap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  readString(): string | undefined;
}

/**
 * Avro bytes decoded as a view into the input (avsc copies them into a pooled buffer). avsc marks a read past
 * the end by a position beyond the buffer, which decode() then reports; a negative length is marked the same way.
 */
class ViewBytesType extends avsc.types.BytesType {
  _read(tap: AvscTap): Buffer | undefined {
    const length = tap.readLong();
    const start = tap.pos;
    if (length < 0 || start + length > tap.buf.length) {
      tap.pos = tap.buf.length + 1;
      return undefined;
    }
    tap.pos = start + length;
    return tap.buf.subarray(start, tap.pos);
  }
}
const VIEW_BYTES = new ViewBytesType();

/** The longest string MEASURED_STRING read since decodeWithSchema set it to 0 (decoding is synchronous). */
let longestRead = 0;

/** Avro strings, measured as they are read: decodeWithSchema records the longest (string-lengths.ts). */
class MeasuredStringType extends avsc.types.StringType {
  _read(tap: AvscTap): string | undefined {
    const value = tap.readString();
    if (value !== undefined && value.length > longestRead) longestRead = value.length;
    return value;
  }
}
const MEASURED_STRING = new MeasuredStringType();

/**
 * Whether every string a value of `type` can hold is read by MEASURED_STRING. Not so for an enum (its symbols
 * decode to strings without being read) nor for a string written `{"type": "string"}` (avsc makes it a plain
 * string type, not the registry's): such records are left to the bounds check's walk.
 */
function readsStringsMeasured(type: AvroType, seen: Set<AvroType>): boolean {
  if (seen.has(type)) return true;
  seen.add(type);
  const { types } = avsc;
  if (type instanceof types.StringType) return type === MEASURED_STRING;
  if (type instanceof types.EnumType || type instanceof types.LogicalType) return false;
  if (type instanceof types.RecordType)
    return type.fields.every((field) => readsStringsMeasured(field.type, seen));
  if (type instanceof types.ArrayType) return readsStringsMeasured(type.itemsType, seen);
  if (type instanceof types.MapType) return readsStringsMeasured(type.valuesType as AvroType, seen);
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) {
    return type.types.every((branch) => readsStringsMeasured(branch, seen));
  }
  return true;
}

const REQUIRED_CANDIDATE_FIELDS = [
  ['jd', 'number'],
  ['fid', 'number'],
  ['pid', 'bigint'],
  ['candid', 'bigint'],
  ['programid', 'number'],
  ['isdiffpos', 'string'],
  ['ra', 'number'],
  ['dec', 'number'],
  ['magpsf', 'number'],
  ['sigmapsf', 'number'],
] as const;

const CUTOUT_FIELDS = ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'] as const;

/**
 * Narrows a decoded record to ZtfAlert. The 4.02 schema as written by Spark makes every field nullable, so the
 * fields the pipeline cannot do without are checked here, once, instead of in every stage. `exact`: nothing was
 * normalised, so the record still encodes to the bytes it was decoded from.
 */
function checkAlert(value: unknown): { alert: ZtfAlert; exact: boolean } {
  const alert = value as Record<string, unknown>;
  if (typeof alert.objectId !== 'string') throw missing('objectId', alert.objectId);
  if (typeof alert.candid !== 'bigint') throw missing('candid', alert.candid);
  const candidate = alert.candidate as Record<string, unknown> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null) throw missing('candidate', candidate);
  for (const [name, type] of REQUIRED_CANDIDATE_FIELDS) {
    if (typeof candidate[name] !== type) throw missing(`candidate.${name}`, candidate[name]);
  }
  let exact = true;
  const prv = alert.prv_candidates ?? null;
  if (prv !== null && !Array.isArray(prv)) throw missing('prv_candidates', prv);
  alert.prv_candidates = prv;
  // 4.02's items are ["prv_candidates","null"]: a null entry carries nothing, so consumers never see one.
  if (Array.isArray(prv) && prv.includes(null)) {
    alert.prv_candidates = prv.filter((entry) => entry !== null);
    exact = false;
  }
  for (const name of CUTOUT_FIELDS) {
    const cutout = alert[name] as { stampData?: unknown } | null | undefined;
    // A cutout without image bytes (nullable in 4.02) is as good as no cutout.
    if (cutout === undefined || (cutout !== null && !Buffer.isBuffer(cutout.stampData))) {
      // A field the schema lacks (undefined) is not in the bytes either way; a cutout record without bytes is.
      if (cutout !== undefined) exact = false;
      alert[name] = null;
    }
  }
  return { alert: alert as ZtfAlert, exact };
}

function missing(field: string, value: unknown): ZtfDecodeError {
  const got = value === null ? 'null' : typeof value;
  return new ZtfDecodeError('missing-field', `alert field ${field} is ${got}`);
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
