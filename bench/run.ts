// `npm run bench [name...]`: runs the benchmarks (all, or the named ones) and prints their results as Markdown
// rows with the machine's details, to paste into BENCHMARKS.md. Benchmarks measure; tests never time anything.
import { cpus, loadavg, totalmem } from 'node:os';
import { coneBenchmark } from './cone.bench.ts';
import { cutoutsBenchmark } from './cutouts.bench.ts';
import { decodeBenchmark } from './decode.bench.ts';
import { e2eBenchmark } from './e2e.bench.ts';
import { finkClassifiersBenchmark } from './fink-classifiers.bench.ts';
import { graphqlBenchmark } from './graphql.bench.ts';

export interface BenchmarkResult {
  name: string;
  figures: Record<string, string | number>;
}

const BENCHMARKS: Record<string, () => Promise<BenchmarkResult[]>> = {
  cone: coneBenchmark,
  cutouts: cutoutsBenchmark,
  decode: decodeBenchmark,
  e2e: e2eBenchmark,
  'fink-classifiers': finkClassifiersBenchmark,
  graphql: graphqlBenchmark,
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    // Other work on the machine skews wall-clock figures: the load at the start says how quiet it was.
    `load average ${loadavg()[0]!.toFixed(1)}`,
);
for (const name of requested.length > 0 ? requested : Object.keys(BENCHMARKS)) {
  for (const result of await BENCHMARKS[name]!()) {
    const figures = Object.entries(result.figures)
      .map(([key, value]) => `${key}: ${value}`)
      .join(', ');
    console.log(`| ${result.name} | ${figures} |`);
  }
}
