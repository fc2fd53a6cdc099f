// Avro Object Container Files (Avro spec, "Object Container Files"), read and written synchronously from Buffers.
//
// One ZTF Kafka message is one whole container file with its writer schema inside, so the pipeline needs a
// reader that works on a Buffer it already holds, fails with a reason code it can route to the dead-letter
// topic, and never copies the data blocks when they are not compressed.
//
// Layout: 'Obj' 0x01 · metadata map<string, bytes> (avro.schema, avro.codec, ...) · 16-byte sync marker ·
// blocks of (long object count, long byte size, data, sync marker).
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export type AvroCodec = 'null' | 'deflate';

export type AvroContainerErrorReason =
  /** Does not start with the 'Obj' 0x01 magic: not a container file at all. */
  | 'not-avro-container'
  /** Ends in the middle of the header, a block or a sync marker. */
  | 'truncated'
  /** avro.codec names a codec this reader does not implement (snappy, zstandard, ...). */
  | 'unknown-codec'
  /** The header is malformed: negative lengths, a missing or unparsable avro.schema. */
  | 'invalid-header'
  /** A block is not followed by the file's sync marker: the block sizes or the data are corrupt. */
  | 'sync-mismatch'
  /** A deflate block does not inflate, or a block's object count is negative. */
  | 'corrupt-block'
  /** A datum does not decode with the schema, or does not fill its block exactly. */
  | 'invalid-datum';

export class AvroContainerError extends Error {
  override name = 'AvroContainerError';
  readonly reason: AvroContainerErrorReason;

  constructor(reason: AvroContainerErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export interface AvroContainerHeader {
  /** Every metadata entry, values as views into the input. */
  metadata: ReadonlyMap<string, Buffer>;
  /** The writer schema's raw JSON bytes, a view into the input: cheap to compare when caching parsed types. */
  schemaBytes: Buffer;
  codec: AvroCodec;
  sync: Buffer;
  /** Offset of the first block. */
  headerLength: number;
}

export interface AvroBlock {
  /** Number of datums in the block. Avro does not delimit datums inside a block: only a schema can split them. */
  count: number;
  /** The block's datums, decompressed. For codec null, a view into the input. */
  data: Buffer;
}

export interface AvroContainer extends AvroContainerHeader {
  schemaJson: string;
  blocks: AvroBlock[];
}

/** What decodeAvroContainer needs from a type: avsc's `Type` fits. */
export interface AvroDatumDecoder {
  decode(buf: Buffer, pos?: number): { value: unknown; offset: number };
}

export interface WriteAvroContainerOptions {
  codec?: AvroCodec;
  /** 16 bytes; random by default. Pass one to make the output reproducible. */
  syncMarker?: Buffer;
  /** Extra metadata entries (avro.* keys are reserved and rejected). */
  metadata?: Readonly<Record<string, string | Buffer>>;
  /** Datums per block (default: all in one block, as the ZTF producer writes one alert per file). */
  datumsPerBlock?: number;
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // 'Obj' 0x01
const SYNC_SIZE = 16;
const SCHEMA_KEY = 'avro.schema';
const CODEC_KEY = 'avro.codec';

export function readAvroContainerHeader(buf: Buffer): AvroContainerHeader {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new AvroContainerError('not-avro-container', "input does not start with the Avro magic 'Obj\\x01'");
  }
  const cursor = new Cursor(buf, MAGIC.length, 'invalid-header');
  const metadata = new Map<string, Buffer>();
  for (;;) {
    let count = cursor.long('metadata block count');
    if (count === 0) break;
    if (count < 0) {
      // A negative count is followed by the block's byte size, which a sequential reader does not need.
      count = -count;
      cursor.long('metadata block size');
    }
    for (let i = 0; i < count; i++) {
      const key = cursor.bytes('metadata key').toString('utf8');
      metadata.set(key, cursor.bytes(`metadata value of ${key}`));
    }
  }
  const sync = cursor.take(SYNC_SIZE, 'header sync marker');
  const schemaBytes = metadata.get(SCHEMA_KEY);
  if (schemaBytes === undefined) {
    throw new AvroContainerError('invalid-header', `container header has no ${SCHEMA_KEY} entry`);
  }
  return {
    metadata,
    schemaBytes,
    codec: parseCodec(metadata.get(CODEC_KEY)),
    sync,
    headerLength: cursor.pos,
  };
}

/** The blocks after the header, each checked against the sync marker and decompressed. */
export function readAvroBlocks(buf: Buffer, header: AvroContainerHeader): AvroBlock[] {
  const blocks: AvroBlock[] = [];
  const cursor = new Cursor(buf, header.headerLength, 'corrupt-block');
  while (cursor.pos < buf.length) {
    const count = cursor.long('block object count');
    if (count < 0) throw new AvroContainerError('corrupt-block', `block object count is negative (${count})`);
    const size = cursor.long('block size');
    if (size < 0) throw new AvroContainerError('corrupt-block', `block size is negative (${size})`);
    const raw = cursor.take(size, 'block data');
    const sync = cursor.take(SYNC_SIZE, 'block sync marker');
    if (!sync.equals(header.sync)) {
      throw new AvroContainerError(
        'sync-mismatch',
        `block ending at byte ${cursor.pos} has the wrong sync marker`,
      );
    }
    blocks.push({ count, data: decompress(raw, header.codec) });
  }
  return blocks;
}

export function readAvroContainer(buf: Buffer): AvroContainer {
  const header = readAvroContainerHeader(buf);
  return { ...header, schemaJson: header.schemaBytes.toString('utf8'), blocks: readAvroBlocks(buf, header) };
}

/** Every datum of every block, decoded with the writer's type (which the caller parsed from schemaJson). */
export function decodeAvroContainer(buf: Buffer, type: AvroDatumDecoder): unknown[] {
  const values: unknown[] = [];
  for (const block of readAvroBlocks(buf, readAvroContainerHeader(buf))) {
    decodeBlock(block, type, values);
  }
  return values;
}

/** Decodes a block's datums into `into`; the datums must fill the block exactly. */
export function decodeBlock(block: AvroBlock, type: AvroDatumDecoder, into: unknown[]): void {
  let pos = 0;
  for (let i = 0; i < block.count; i++) {
    let result: { value: unknown; offset: number };
    try {
      result = type.decode(block.data, pos);
    } catch (err) {
      throw new AvroContainerError('invalid-datum', `datum ${i} does not decode: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (result.offset < 0) {
      throw new AvroContainerError('invalid-datum', `datum ${i} runs past the end of its block`);
    }
    into.push(result.value);
    pos = result.offset;
  }
  if (pos !== block.data.length) {
    throw new AvroContainerError(
      'invalid-datum',
      `block of ${block.count} datum(s) has ${block.data.length - pos} byte(s) left over`,
    );
  }
}

export function writeAvroContainer(
  schemaJson: string,
  datums: readonly Buffer[],
  options: WriteAvroContainerOptions = {},
): Buffer {
  const codec = options.codec ?? 'null';
  const sync = options.syncMarker ?? randomBytes(SYNC_SIZE);
  if (sync.length !== SYNC_SIZE)
    throw new RangeError(`sync marker must be ${SYNC_SIZE} bytes, got ${sync.length}`);
  const perBlock = options.datumsPerBlock ?? Math.max(datums.length, 1);
  if (!Number.isInteger(perBlock) || perBlock < 1)
    throw new RangeError('datumsPerBlock must be a positive integer');

  const entries: [string, Buffer][] = [
    [SCHEMA_KEY, Buffer.from(schemaJson, 'utf8')],
    [CODEC_KEY, Buffer.from(codec, 'utf8')],
  ];
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    if (key.startsWith('avro.')) throw new RangeError(`metadata key ${key} is reserved`);
    entries.push([key, typeof value === 'string' ? Buffer.from(value, 'utf8') : value]);
  }

  const parts: Buffer[] = [MAGIC, encodeLong(entries.length)];
  for (const [key, value] of entries) {
    const keyBytes = Buffer.from(key, 'utf8');
    parts.push(encodeLong(keyBytes.length), keyBytes, encodeLong(value.length), value);
  }
  parts.push(encodeLong(0), sync);

  for (let start = 0; start < datums.length; start += perBlock) {
    const chunk = datums.slice(start, start + perBlock);
    const raw = chunk.length === 1 && chunk[0] !== undefined ? chunk[0] : Buffer.concat(chunk);
    const data = codec === 'deflate' ? deflateRawSync(raw) : raw;
    parts.push(encodeLong(chunk.length), encodeLong(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

function parseCodec(value: Buffer | undefined): AvroCodec {
  // An absent avro.codec means null (Avro spec).
  const codec = value === undefined ? 'null' : value.toString('utf8');
  if (codec === 'null' || codec === 'deflate') return codec;
  throw new AvroContainerError('unknown-codec', `unsupported avro.codec '${codec}'`);
}

function decompress(raw: Buffer, codec: AvroCodec): Buffer {
  if (codec === 'null') return raw;
  try {
    return inflateRawSync(raw);
  } catch (err) {
    throw new AvroContainerError(
      'corrupt-block',
      `deflate block does not inflate: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Zig-zag varint of a non-negative safe integer (container framing never needs more). */
function encodeLong(n: number): Buffer {
  let value = n * 2; // zig-zag of a non-negative number; floating point keeps it exact up to 2^53
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** Bounds-checked sequential reader: every overrun is a 'truncated' error rather than a RangeError. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    /** The reason for a value that cannot be right wherever it is (a 12-byte varint, a negative length). */
    private readonly malformed: AvroContainerErrorReason,
  ) {}

  /** A zig-zag varint long; container framing values must be safe integers. */
  long(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new AvroContainerError('truncated', `input ends inside the ${what}`);
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) {
          throw new AvroContainerError(this.malformed, `${what} is too large (${value})`);
        }
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      scale *= 0x80;
    }
    throw new AvroContainerError(this.malformed, `${what} is not a valid varint`);
  }

  bytes(what: string): Buffer {
    const length = this.long(`length of the ${what}`);
    if (length < 0) throw new AvroContainerError(this.malformed, `${what} has a negative length`);
    return this.take(length, what);
  }

  take(length: number, what: string): Buffer {
    if (this.pos + length > this.buf.length) {
      throw new AvroContainerError(
        'truncated',
        `input ends inside the ${what} (needs ${length} bytes at ${this.pos}, has ${this.buf.length - this.pos})`,
      );
    }
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }
}
