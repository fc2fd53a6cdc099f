// Decode-only throughput on the real ZTF alert files: container parse + Avro decode, one core.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createZtfDecoder } from '../src/pipeline/decode/ztf-avro.ts';
import type { BenchmarkResult } from './run.ts';

const ROUNDS = 20;

export async function decodeBenchmark(): Promise<BenchmarkResult[]> {
  const root = path.join(loadConfig().sharedDir, 'datasim', 'ztf');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.avro'))
    .map((name) => readFileSync(path.join(root, name)));
  const megabytes = files.reduce((sum, file) => sum + file.length, 0) / 1e6;
  const decoder = createZtfDecoder();
  for (const file of files) decoder.decode(file); // warm-up: schema parse and JIT

  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) for (const file of files) decoder.decode(file);
  const seconds = (performance.now() - started) / 1000;
  await Promise.resolve();
  return [
    {
      name: `decode ${files.length} real ZTF alerts x ${ROUNDS} (TypeScript, avsc)`,
      figures: {
        'alerts/s/core': Math.round((files.length * ROUNDS) / seconds),
        'MB/s': Math.round((megabytes * ROUNDS) / seconds),
      },
    },
  ];
}
