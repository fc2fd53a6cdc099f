// Rows as ClickHouse RowBinary: exact for binary cutouts and 64-bit ids (which JSON cannot carry: a \u00ff in
// JSON arrives as two UTF-8 bytes, and big integers need quoting), compact, and read by 18.16 and modern servers.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { translateErrors } from './clickhouse.ts';
import { identifier, join, sql, type Sql } from './sql.ts';
import type { ScalarKind, Table } from './table.ts';

type Value = string | number | bigint | boolean | Buffer | Date | null | undefined;

/** Buffers at least this long (cutouts, raw alerts) are sent as they are instead of being copied. */
const ZERO_COPY_BYTES = 4096;
const SEGMENT_BYTES = 256 * 1024;

/**
 * The request body as a list of chunks: the small values of many rows packed into shared segments, and every
 * large Buffer value as its own chunk, not copied. A raw alert or a cutout is tens of KB, so copying them into
 * one contiguous body cost more CPU (copies and page faults of ever larger buffers) than all the other values.
 */
class ChunkWriter {
  private readonly chunks: Buffer[] = [];
  private segment = Buffer.allocUnsafe(SEGMENT_BYTES);
  /** segment[start, length) is written but not yet in chunks. */
  private start = 0;
  private length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.segment.length) return;
    // RowBinary has no framing: the body may be split between any two bytes, so a full segment is cut as it is.
    this.cut();
    this.segment = Buffer.allocUnsafe(Math.max(SEGMENT_BYTES, bytes));
    this.start = 0;
    this.length = 0;
  }

  private cut(): void {
    if (this.length > this.start) this.chunks.push(this.segment.subarray(this.start, this.length));
    this.start = this.length;
  }

  uint8(value: number): void {
    this.reserve(1);
    this.segment[this.length++] = value;
  }

  varint(value: number): void {
    this.reserve(10);
    while (value >= 0x80) {
      this.segment[this.length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.segment[this.length++] = value;
  }

  bytes(value: Buffer): void {
    this.varint(value.length);
    if (value.length >= ZERO_COPY_BYTES) {
      this.cut();
      this.chunks.push(value);
      return;
    }
    this.reserve(value.length);
    this.length += value.copy(this.segment, this.length);
  }

  string(value: string): void {
    // Most strings are short ASCII: one pass writes them, and the length is known afterwards when it fits.
    const maxBytes = value.length * 3;
    this.reserve(maxBytes + 10);
    const byteLength = maxBytes < 128 ? this.segment.write(value, this.length + 1) : Buffer.byteLength(value);
    if (maxBytes < 128) {
      this.segment[this.length] = byteLength;
      this.length += 1 + byteLength;
      return;
    }
    this.varint(byteLength);
    this.length += this.segment.write(value, this.length);
  }

  uint16(value: number): void {
    this.reserve(2);
    this.length = this.segment.writeUInt16LE(value, this.length);
  }

  uint32(value: number): void {
    this.reserve(4);
    this.length = this.segment.writeUInt32LE(value, this.length);
  }

  uint64(value: bigint): void {
    this.reserve(8);
    this.length = this.segment.writeBigUInt64LE(value, this.length);
  }

  float32(value: number): void {
    this.reserve(4);
    this.length = this.segment.writeFloatLE(value, this.length);
  }

  float64(value: number): void {
    this.reserve(8);
    this.length = this.segment.writeDoubleLE(value, this.length);
  }

  result(): Buffer[] {
    this.cut();
    return this.chunks;
  }
}

function writeScalar(out: ChunkWriter, type: ScalarKind, value: Value, column: string): void {
  switch (type) {
    case 'String':
    case 'Bytes':
      if (Buffer.isBuffer(value)) out.bytes(value);
      else out.string(typeof value === 'string' ? value : String(value ?? ''));
      return;
    case 'UInt8':
    case 'Bool':
      out.uint8(Number(value ?? 0));
      return;
    case 'UInt16':
      out.uint16(Number(value ?? 0));
      return;
    case 'UInt32':
      out.uint32(Number(value ?? 0));
      return;
    case 'UInt64':
      out.uint64(typeof value === 'bigint' ? value : BigInt((value ?? 0) as number | string));
      return;
    case 'Float32':
      out.float32(Number(value ?? 0));
      return;
    case 'Float64':
      out.float64(typeof value === 'number' ? value : Number(value ?? 0));
      return;
    case 'Date':
      // 'YYYY-MM-DD' (the record's form) or a Date: days since 1970-01-01 UTC.
      out.uint16(
        Math.floor((value instanceof Date ? value.getTime() : Date.parse(String(value))) / 86_400_000),
      );
      return;
    case 'DateTime':
      out.uint32(value instanceof Date ? Math.floor(value.getTime() / 1000) : Number(value));
      return;
    default:
      throw new Error(`column ${column}: unsupported type ${String(type)}`);
  }
}

/** The rows as RowBinary, in chunks to be sent in order (large Buffer values are chunks of their own, shared). */
export function encodeRowBinary<Row>(table: Table<Row>, rows: readonly Row[]): Buffer[] {
  const out = new ChunkWriter();
  for (const row of rows) {
    for (const { field, column, nullable, scalar } of table.columns) {
      const value = (row as Record<string, Value>)[field];
      if (nullable) {
        const isNull =
          value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
        out.uint8(isNull ? 1 : 0);
        if (isNull) continue;
      }
      writeScalar(out, scalar, value, column);
    }
  }
  return out.result();
}

/** INSERT the rows in one request. Table and column names come from the spec, a constant in code. */
export async function insertRows<Row>(
  client: ClickHouseClient,
  table: Table<Row>,
  rows: readonly Row[],
): Promise<void> {
  await insertEncoded(client, encodeRows(table, rows));
}

/** An INSERT ready to send: a value no column holds has failed already, before anything was sent. */
export interface EncodedInsert {
  statement: Sql;
  /** Empty when there are no rows (nothing is sent). */
  body: Buffer[];
}

export function encodeRows<Row>(table: Table<Row>, rows: readonly Row[]): EncodedInsert {
  const names = table.columns.map((c) => c.column);
  const columns = join(
    names.map((name) => identifier(name, names)),
    ', ',
  );
  return {
    statement: sql`INSERT INTO ${identifier(table.name, [table.name])} (${columns}) FORMAT RowBinary`,
    body: rows.length === 0 ? [] : encodeRowBinary(table, rows),
  };
}

export async function insertEncoded(
  client: ClickHouseClient,
  { statement, body }: EncodedInsert,
): Promise<void> {
  if (body.length === 0) return;
  await translateErrors(async () => {
    const result = await client.exec({ query: statement.text, values: Readable.from(body) });
    // The response body is empty; it must still be read for the connection to return to the pool.
    result.stream.resume();
    await new Promise<void>((resolve, reject) => {
      result.stream.once('end', resolve);
      result.stream.once('error', reject);
    });
  });
}

/**
 * Reads RowBinary answers: `SELECT <fields of table> ... FORMAT RowBinary` comes back as the rows themselves, binary
 * exact and without the hex that JSON needs for bytes (half the transfer for raw alerts and cutouts).
 */
export async function queryRowBinary<Row, F extends keyof Row & string>(
  client: ClickHouseClient,
  table: Table<Row>,
  fields: readonly F[],
  statement: Sql,
): Promise<Pick<Row, F>[]> {
  const body = await translateErrors(
    async () => {
      const result = await client.exec({ query: `${statement.text} FORMAT RowBinary` });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
    { idempotent: true },
  );
  const columns = fields.map((field) => {
    const spec = table.columns.find((c) => c.field === field);
    if (spec === undefined) throw new RangeError(`table ${table.name} has no field ${field}`);
    return spec;
  });
  const rows: Pick<Row, F>[] = [];
  const reader = { buf: body, pos: 0 };
  while (reader.pos < body.length) {
    const row: Record<string, unknown> = {};
    for (const c of columns) {
      if (c.nullable && body[reader.pos++] === 1) {
        row[c.field] = null;
        continue;
      }
      row[c.field] = readScalar(reader, c.scalar);
    }
    rows.push(row as Pick<Row, F>);
  }
  return rows;
}

function readVarint(reader: { buf: Buffer; pos: number }): number {
  let value = 0;
  let factor = 1;
  for (;;) {
    const byte = reader.buf[reader.pos++]!;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 128;
  }
}

function readScalar(reader: { buf: Buffer; pos: number }, scalar: ScalarKind): unknown {
  const { buf } = reader;
  const at = reader.pos;
  switch (scalar) {
    case 'String':
    case 'Bytes': {
      const length = readVarint(reader);
      const start = reader.pos;
      reader.pos += length;
      // A view into the answer: one allocation for the whole answer, none per value.
      return scalar === 'Bytes' ? buf.subarray(start, reader.pos) : buf.toString('utf8', start, reader.pos);
    }
    case 'UInt8':
    case 'Bool':
      reader.pos += 1;
      return scalar === 'Bool' ? buf[at] === 1 : buf[at];
    case 'UInt16':
      reader.pos += 2;
      return buf.readUInt16LE(at);
    case 'UInt32':
      reader.pos += 4;
      return buf.readUInt32LE(at);
    case 'UInt64':
      reader.pos += 8;
      return buf.readBigUInt64LE(at);
    case 'Float32':
      reader.pos += 4;
      return buf.readFloatLE(at);
    case 'Float64':
      reader.pos += 8;
      return buf.readDoubleLE(at);
    case 'Date':
      reader.pos += 2;
      return new Date(buf.readUInt16LE(at) * 86_400_000).toISOString().slice(0, 10);
    case 'DateTime':
      reader.pos += 4;
      return new Date(buf.readUInt32LE(at) * 1000);
    default:
      throw new Error(`unsupported type ${String(scalar)}`);
  }
}
