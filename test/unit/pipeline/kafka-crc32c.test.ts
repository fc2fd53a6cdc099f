import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { useNativeCrc32c } from '../../../src/pipeline/kafka-crc32c.ts';

const require = createRequire(import.meta.url);

interface Encoder {
  buffer: Buffer;
}
type RecordBatch = (options: { records: Encoder[]; producerId?: unknown }) => Promise<Encoder>;
type RecordOf = (options: { offsetDelta: number; timestamp: number; key: Buffer; value: Buffer }) => Encoder;

describe('kafkajs record batches checksummed natively', () => {
  // Before anything loads kafkajs's produce path: the test file is its own process.
  const status = useNativeCrc32c();

  it('replaces kafkajs checksum module before kafkajs loads it, once', () => {
    expect(status).toBe('native');
    expect(useNativeCrc32c()).toBe('native');
  });

  it('is CRC-32C (Castagnoli), unsigned', () => {
    const checksum = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
    // The check value of CRC-32C (RFC 3720 B.4): 0xE3069283 for "123456789".
    expect(checksum(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(checksum(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
  });

  it('writes the checksum kafkajs own code computes into a record batch', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
      RecordBatch: RecordBatch;
    };
    const record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as RecordOf;
    const reference = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
    const records = Array.from({ length: 20 }, (_, i) =>
      record({
        offsetDelta: i,
        timestamp: 0,
        key: Buffer.from(`key-${i}`),
        value: Buffer.alloc(5000 + i, i),
      }),
    );
    const batch = (await RecordBatch({ records })).buffer;
    // firstOffset (8), length (4), partition leader epoch (4), magic (1), CRC (4), then what the CRC covers.
    const crc = batch.readUInt32BE(17);
    const body = batch.subarray(21);
    expect(body.length).toBeGreaterThan(100_000);
    expect(crc).toBe(reference(body));
  });
});
