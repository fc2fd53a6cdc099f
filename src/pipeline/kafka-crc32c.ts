// kafkajs checksums every record batch it produces (CRC-32C, which the broker verifies) in JavaScript, one byte
// at a time: ~320 MB/s here, 16% of distribution's CPU (it publishes whole alerts with their cutouts) and 2% of
// raw2science's. @node-rs/crc32 computes the same checksum natively (SSE 4.2), ~5,500 MB/s.
//
// kafkajs has no option for it. It requires its checksum module lazily, with the first produce request's
// protocol version, so a module placed in Node's require cache under that module's path before then is the one
// it gets. When that cannot be done (kafkajs already loaded it, its layout changed, the native package is absent
// for this platform), kafkajs keeps its own: slower, as correct.
import Module, { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const KAFKAJS_CRC32C = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';

export type Crc32cInstall = 'native' | 'already-loaded' | 'unavailable';

let installed: Crc32cInstall | undefined;

/** Makes kafkajs checksum record batches with the native CRC-32C; idempotent. Says which checksum it uses. */
export function useNativeCrc32c(): Crc32cInstall {
  installed ??= install();
  return installed;
}

function install(): Crc32cInstall {
  let modulePath: string;
  let crc32c: (input: Buffer) => number;
  try {
    modulePath = require.resolve(KAFKAJS_CRC32C);
    ({ crc32c } = require('@node-rs/crc32') as { crc32c: (input: Buffer) => number });
  } catch {
    return 'unavailable';
  }
  if (require.cache[modulePath] !== undefined) return 'already-loaded';
  const native = new Module(modulePath);
  native.filename = modulePath;
  native.loaded = true;
  // kafkajs's module exports buffer => unsigned 32-bit checksum; crc32c returns it unsigned.
  native.exports = (buffer: Buffer): number => crc32c(buffer);
  require.cache[modulePath] = native;
  return 'native';
}
