// Rows as ClickHouse RowBinary: exact for binary cutouts and 64-bit ids (which JSON cannot carry: a \u00ff in
// JSON arrives as two UTF-8 bytes, and big integers need quoting), compact, and read by 18.16 and modern servers.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { translateErrors } from './clickhouse.ts';
import { identifier, join, sql } from './sql.ts';

export type ScalarType =
  'String' | 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Float32' | 'Float64' | 'Date' | 'DateTime';
export type ColumnType = ScalarType | `Nullable(${ScalarType})`;

export interface TableSpec<Row> {
  table: string;
  columns: readonly { name: keyof Row & string; type: ColumnType }[];
}

type Value = string | number | bigint | boolean | Buffer | Date | null | undefined;

/** Grows as rows are written; one allocation per doubling, not per value. */
class ByteWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  uint8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.uint8((value & 0x7f) | 0x80);
      value = Math.floor(value / 128);
    }
    this.uint8(value);
  }

  bytes(value: Buffer): void {
    this.varint(value.length);
    this.reserve(value.length);
    value.copy(this.buffer, this.length);
    this.length += value.length;
  }

  string(value: string): void {
    const byteLength = Buffer.byteLength(value);
    this.varint(byteLength);
    this.reserve(byteLength);
    this.length += this.buffer.write(value, this.length);
  }

  fixed(bytes: number, write: (buffer: Buffer, offset: number) => void): void {
    this.reserve(bytes);
    write(this.buffer, this.length);
    this.length += bytes;
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeScalar(out: ByteWriter, type: ScalarType, value: Value, column: string): void {
  switch (type) {
    case 'String':
      if (Buffer.isBuffer(value)) out.bytes(value);
      else out.string(String(value ?? ''));
      return;
    case 'UInt8':
      out.uint8(Number(value ?? 0));
      return;
    case 'UInt16':
      out.fixed(2, (b, o) => b.writeUInt16LE(Number(value ?? 0), o));
      return;
    case 'UInt32':
      out.fixed(4, (b, o) => b.writeUInt32LE(Number(value ?? 0), o));
      return;
    case 'UInt64':
      out.fixed(8, (b, o) => b.writeBigUInt64LE(BigInt((value ?? 0) as bigint | number | string), o));
      return;
    case 'Float32':
      out.fixed(4, (b, o) => b.writeFloatLE(Number(value ?? 0), o));
      return;
    case 'Float64':
      out.fixed(8, (b, o) => b.writeDoubleLE(Number(value ?? 0), o));
      return;
    case 'Date': {
      const days = value instanceof Date ? Math.floor(value.getTime() / 86_400_000) : Number(value);
      out.fixed(2, (b, o) => b.writeUInt16LE(days, o));
      return;
    }
    case 'DateTime': {
      const seconds = value instanceof Date ? Math.floor(value.getTime() / 1000) : Number(value);
      out.fixed(4, (b, o) => b.writeUInt32LE(seconds, o));
      return;
    }
    default:
      throw new Error(`column ${column}: unsupported type ${String(type)}`);
  }
}

export function encodeRowBinary<Row>(spec: TableSpec<Row>, rows: readonly Row[]): Buffer {
  const out = new ByteWriter();
  const columns = spec.columns.map(({ name, type }) => {
    const nullable = type.startsWith('Nullable(');
    return { name, nullable, scalar: (nullable ? type.slice(9, -1) : type) as ScalarType };
  });
  for (const row of rows) {
    for (const { name, nullable, scalar } of columns) {
      const value = row[name] as Value;
      if (nullable) {
        const isNull =
          value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
        out.uint8(isNull ? 1 : 0);
        if (isNull) continue;
      }
      writeScalar(out, scalar, value, name);
    }
  }
  return out.result();
}

/** INSERT the rows in one request. Table and column names come from the spec, a constant in code. */
export async function insertRows<Row>(
  client: ClickHouseClient,
  spec: TableSpec<Row>,
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = spec.columns.map((column) => column.name);
  const columns = join(
    names.map((name) => identifier(name, names)),
    ', ',
  );
  const statement = sql`INSERT INTO ${identifier(spec.table, [spec.table])} (${columns}) FORMAT RowBinary`;
  const body = encodeRowBinary(spec, rows);
  await translateErrors(async () => {
    const result = await client.exec({ query: statement.text, values: Readable.from([body]) });
    // The response body is empty; it must still be read for the connection to return to the pool.
    result.stream.resume();
    await new Promise<void>((resolve, reject) => {
      result.stream.once('end', resolve);
      result.stream.once('error', reject);
    });
  });
}
