import { PassThrough } from 'node:stream';
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  AvroContainerError,
  decodeAvroContainer,
  readAvroContainer,
  writeAvroContainer,
} from '../../src/pipeline/decode/avro-container.ts';
import type { AvroContainerErrorReason } from '../../src/pipeline/decode/avro-container.ts';

const SCHEMA = {
  type: 'record',
  name: 'Detection',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'label', type: 'string' },
  ],
} as const;
const SCHEMA_JSON = JSON.stringify(SCHEMA);
const type = avsc.Type.forSchema(SCHEMA as unknown as avsc.Schema);
const SYNC = Buffer.from('0123456789abcdef');

function detections(n: number): { id: number; label: string }[] {
  return Array.from({ length: n }, (_, id) => ({ id, label: `detection ${id} ${'x'.repeat(id % 7)}` }));
}

function encode(values: readonly object[]): Buffer[] {
  return values.map((value) => type.toBuffer(value));
}

function reasonOf(fn: () => unknown): AvroContainerErrorReason | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AvroContainerError) return err.reason;
    throw err;
  }
  return undefined;
}

/** A container header built by hand, to make headers the writer refuses to produce. */
function rawHeader(entries: [string, string][]): Buffer {
  const varint = (n: number) => Buffer.from([n * 2]); // small non-negative values only
  const parts = [Buffer.from('Obj\x01', 'latin1'), varint(entries.length)];
  for (const [key, value] of entries) {
    parts.push(varint(key.length), Buffer.from(key), varint(value.length), Buffer.from(value));
  }
  return Buffer.concat([...parts, varint(0), SYNC]);
}

describe('writeAvroContainer / readAvroContainer', () => {
  it('round-trips schema, codec and datums (codec null by default)', () => {
    const values = detections(5);
    const file = writeAvroContainer(SCHEMA_JSON, encode(values));

    const container = readAvroContainer(file);
    expect(container.schemaJson).toBe(SCHEMA_JSON);
    expect(container.codec).toBe('null');
    expect(container.metadata.get('avro.codec')?.toString()).toBe('null');
    expect(container.blocks).toHaveLength(1);
    expect(container.blocks[0]?.count).toBe(5);
    expect(decodeAvroContainer(file, type)).toEqual(values);
  });

  it('splits datums into blocks of datumsPerBlock', () => {
    const values = detections(5);
    const file = writeAvroContainer(SCHEMA_JSON, encode(values), { datumsPerBlock: 2 });

    expect(readAvroContainer(file).blocks.map((block) => block.count)).toEqual([2, 2, 1]);
    expect(decodeAvroContainer(file, type)).toEqual(values);
  });

  it('writes an empty container for no datums', () => {
    const file = writeAvroContainer(SCHEMA_JSON, []);
    expect(readAvroContainer(file).blocks).toEqual([]);
    expect(decodeAvroContainer(file, type)).toEqual([]);
  });

  it('compresses with the deflate codec and reads it back', () => {
    const values = Array.from({ length: 200 }, (_, id) => ({ id, label: 'the same words over and over' }));
    const plain = writeAvroContainer(SCHEMA_JSON, encode(values));
    const deflated = writeAvroContainer(SCHEMA_JSON, encode(values), { codec: 'deflate' });

    expect(deflated.length).toBeLessThan(plain.length / 4);
    expect(readAvroContainer(deflated).codec).toBe('deflate');
    expect(decodeAvroContainer(deflated, type)).toEqual(values);
  });

  it('is reproducible with a fixed sync marker and keeps extra metadata', () => {
    const options = { syncMarker: SYNC, metadata: { producer: 'fink-test' } };
    const a = writeAvroContainer(SCHEMA_JSON, encode(detections(3)), options);
    const b = writeAvroContainer(SCHEMA_JSON, encode(detections(3)), options);

    expect(a.equals(b)).toBe(true);
    const container = readAvroContainer(a);
    expect(container.sync.equals(SYNC)).toBe(true);
    expect(container.metadata.get('producer')?.toString()).toBe('fink-test');
  });

  it('rejects reserved metadata keys and bad sync markers', () => {
    expect(() => writeAvroContainer(SCHEMA_JSON, [], { metadata: { 'avro.codec': 'deflate' } })).toThrow(
      /reserved/,
    );
    expect(() => writeAvroContainer(SCHEMA_JSON, [], { syncMarker: Buffer.alloc(8) })).toThrow(/16 bytes/);
  });
});

describe('interoperability with avsc', () => {
  it('avsc reads what we write (deflate)', async () => {
    const values = detections(20);
    const file = writeAvroContainer(SCHEMA_JSON, encode(values), { codec: 'deflate', datumsPerBlock: 7 });
    const decoder = new avsc.streams.BlockDecoder();
    const decoded: unknown[] = [];
    decoder.on('data', (value: unknown) => decoded.push(value));
    const done = new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
    decoder.end(file);
    await done;
    expect(decoded).toEqual(values);
  });

  it('we read what avsc writes (deflate, several blocks)', async () => {
    const values = detections(300);
    const encoder = new avsc.streams.BlockEncoder(type, { codec: 'deflate', blockSize: 512 });
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise((resolve) => sink.on('end', resolve));
    encoder.pipe(sink);
    for (const value of values) encoder.write(value);
    encoder.end();
    await done;
    const file = Buffer.concat(chunks);

    expect(readAvroContainer(file).blocks.length).toBeGreaterThan(1);
    expect(decodeAvroContainer(file, type)).toEqual(values);
  });
});

describe('corrupt input', () => {
  const good = writeAvroContainer(SCHEMA_JSON, encode(detections(3)), { syncMarker: SYNC });
  const withCodec = (codec: string) => {
    const file = Buffer.from(good);
    const at = file.indexOf('avro.codec') + 'avro.codec'.length + 1; // + 1: the value's length byte
    file.write(codec, at, 'latin1');
    return file;
  };

  it.each<[string, Buffer, AvroContainerErrorReason]>([
    ['an empty buffer', Buffer.alloc(0), 'not-avro-container'],
    [
      'wrong magic',
      Buffer.concat([Buffer.from('Obj\x02', 'latin1'), good.subarray(4)]),
      'not-avro-container',
    ],
    ['JSON instead of Avro', Buffer.from('{"candid": 1}'), 'not-avro-container'],
    ['a file cut inside the header', good.subarray(0, 20), 'truncated'],
    ['a file cut before the header sync marker ends', good.subarray(0, good.indexOf(SYNC) + 8), 'truncated'],
    ['a file cut inside the data block', good.subarray(0, good.length - 20), 'truncated'],
    ['a file cut inside the last sync marker', good.subarray(0, good.length - 3), 'truncated'],
    ['an unknown codec', withCodec('snap'), 'unknown-codec'],
    ['a header without avro.schema', rawHeader([['avro.codec', 'null']]), 'invalid-header'],
    [
      'a wrong block sync marker',
      Buffer.concat([good.subarray(0, good.length - 1), Buffer.from('!')]),
      'sync-mismatch',
    ],
  ])('%s', (_name, input, reason) => {
    expect(reasonOf(() => decodeAvroContainer(input, type))).toBe(reason);
  });

  it('a deflate block that does not inflate is a corrupt block', () => {
    const file = writeAvroContainer(SCHEMA_JSON, encode(detections(50)), {
      codec: 'deflate',
      syncMarker: SYNC,
    });
    const header = readAvroContainer(file).headerLength;
    const broken = Buffer.from(file);
    broken.fill(0xff, header + 4, header + 40); // inside the compressed data, leaving count and size intact
    expect(reasonOf(() => readAvroContainer(broken))).toBe('corrupt-block');
  });

  it('a datum that does not fill its block exactly is an invalid datum', () => {
    const datums = encode(detections(2));
    const padded = writeAvroContainer(SCHEMA_JSON, [Buffer.concat([...datums, Buffer.from([0])])], {
      datumsPerBlock: 1,
    });
    // One datum announced, but the block holds two and a bit.
    expect(reasonOf(() => decodeAvroContainer(padded, type))).toBe('invalid-datum');
    const short = writeAvroContainer(SCHEMA_JSON, [Buffer.from([0x02])]);
    expect(reasonOf(() => decodeAvroContainer(short, type))).toBe('invalid-datum');
  });

  it('errors carry a message naming the problem', () => {
    expect(() => readAvroContainer(withCodec('snap'))).toThrow(/avro.codec 'snap'/);
    expect(() => readAvroContainer(good.subarray(0, 20))).toThrow(AvroContainerError);
  });
});
