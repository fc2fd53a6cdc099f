// Decode-only throughput on the real ZTF alert files, one core: our decoder (container parse + avsc) side by side
// with fastavro (bench/fastavro_decode.py) on the same files and the same number of rounds.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePythonEnv } from '../src/cli/python-env.ts';
import { loadConfig } from '../src/config.ts';
import { createZtfDecoder } from '../src/pipeline/decode/ztf-avro.ts';
import type { BenchmarkResult } from './run.ts';

const ROUNDS = 20;
const FASTAVRO_SCRIPT = new URL('./fastavro_decode.py', import.meta.url).pathname;
const REQUIREMENTS = new URL('./requirements.txt', import.meta.url).pathname;

/** What bench/fastavro_decode.py prints. */
interface FastavroResult {
  fastavro: string;
  python: string;
  alerts: number;
  bytes: number;
  /** [wall seconds, CPU seconds] of the timed rounds. */
  reader: [number, number];
  schemaless: [number, number];
}

/** Alerts per wall-clock second, and per CPU second of the process (per core, whatever else the machine runs). */
export interface DecodeRate {
  wall: number;
  cpu: number;
}

/** The real alert files, sorted so that every run (and the Python side) reads them in the same order. */
export function realZtfFiles(): string[] {
  const root = path.join(loadConfig().sharedDir, 'datasim', 'ztf');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.avro'))
    .sort()
    .map((name) => path.join(root, name));
}

/**
 * Our decoder over `ROUNDS` passes, after one warm-up pass (schema parse and JIT). The CPU time is the whole
 * process's, garbage-collector threads included, so the per-core rate errs low rather than high.
 */
export function typescriptDecodeRate(files: readonly Buffer[]): DecodeRate {
  const decoder = createZtfDecoder();
  for (const file of files) decoder.decode(file);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) for (const file of files) decoder.decode(file);
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const alerts = files.length * ROUNDS;
  return { wall: alerts / wall, cpu: alerts / ((used.user + used.system) / 1e6) };
}

export async function decodeBenchmark(): Promise<BenchmarkResult[]> {
  const config = loadConfig();
  const paths = realZtfFiles();
  const files = paths.map((file) => readFileSync(file));
  const megabytes = files.reduce((sum, file) => sum + file.length, 0) / 1e6;
  const typescript = typescriptDecodeRate(files);

  // ensurePythonEnv keeps one environment per state directory (<stateDir>/venv-interop, rebuilt whenever its
  // requirements file changes), so this one lives under <stateDir>/bench: alternating with the interop tests'
  // requirements in the same directory would rebuild both environments every time.
  const python = await ensurePythonEnv(path.join(config.stateDir, 'bench'), REQUIREMENTS);
  const fastavro = await runFastavro(python, paths);
  if (fastavro.alerts !== files.length) {
    throw new Error(`fastavro decoded ${fastavro.alerts} alerts from ${files.length} files`);
  }
  const alerts = fastavro.alerts * ROUNDS;
  const rate = ([wall, cpu]: [number, number]): DecodeRate => ({ wall: alerts / wall, cpu: alerts / cpu });
  const reader = rate(fastavro.reader);
  const schemaless = rate(fastavro.schemaless);
  const what = `decode ${files.length} real ZTF alerts x ${ROUNDS}, one core`;
  const figures = (r: DecodeRate) => ({
    'alerts/s/core (CPU time)': Math.round(r.cpu),
    'alerts/s (wall)': Math.round(r.wall),
    'MB/s/core': Math.round((megabytes / files.length) * r.cpu),
  });
  return [
    {
      name: `${what} (TypeScript: container parse + avsc, BigInt longs, cached schema)`,
      figures: figures(typescript),
    },
    {
      name: `${what} (fastavro ${fastavro.fastavro}, Python ${fastavro.python}: fastavro.reader per file)`,
      figures: {
        ...figures(reader),
        'TypeScript / fastavro': `${(typescript.cpu / reader.cpu).toFixed(1)}x`,
      },
    },
    {
      name: `${what} (fastavro ${fastavro.fastavro}: schemaless_reader, schema parsed once)`,
      figures: {
        ...figures(schemaless),
        'TypeScript / fastavro': `${(typescript.cpu / schemaless.cpu).toFixed(1)}x`,
      },
    },
  ];
}

function runFastavro(python: string, files: readonly string[]): Promise<FastavroResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [FASTAVRO_SCRIPT, String(ROUNDS), ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`fastavro_decode.py exited with ${code}:\n${Buffer.concat(stderr).toString()}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(stdout).toString()) as FastavroResult);
      } catch (err) {
        reject(new Error('fastavro_decode.py printed no JSON result', { cause: err }));
      }
    });
  });
}
