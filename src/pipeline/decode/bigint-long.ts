// Avro long as bigint, for every decoder: ZTF candid, pid and objectidps*, Rubin diaSourceId exceed 2^53, and a JS
// number would silently round them. avsc unpacks the varint into 8 little-endian bytes. (Decoding the packed
// varint ourselves with noUnpack measured no faster on real alerts, so the simple form stays.)
import avsc from 'avsc';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export const BIGINT_LONG = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(),
  toBuffer: (n: bigint): Buffer => {
    const buf = Buffer.allocUnsafe(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (json: number | string | bigint): bigint => BigInt(json),
  // JSON numbers lose digits past 2^53, so large longs go out as decimal strings (fromJSON reads both).
  toJSON: (n: bigint): number | string => (n >= -SAFE_MAX && n <= SAFE_MAX ? Number(n) : n.toString()),
  isValid: (n: unknown): boolean => typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX,
  compare: (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0),
});
