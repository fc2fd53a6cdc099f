// Cone search by pages on a survey-sized archive: a 1-degree cone (the largest the API allows by default) at
// random object positions, read page by page with the keyset cursor (coneSearchPage's store call), and the
// latestObjects window's reference (the newest stored alert). The same database as the GraphQL benchmark
// (bench/graphql-data.ts: 1 million objects, 10 million alerts by default), filled fresh and dropped
// afterwards, also on Ctrl-C.
//
// Figures, per page position (first page, and every later page of the walk), store alone (ClickHouseAlertStore,
// what the resolver calls; GraphQL adds well under a millisecond for 50 small items): p50 / p99 / max over
// BENCH_CONE_SAMPLES cones, one query at a time. Also the objects per cone and the pages a full walk takes.
//
// Settings (environment): BENCH_CONE_OBJECTS (1,000,000), BENCH_CONE_ALERTS_PER_OBJECT (10), BENCH_CONE_SAMPLES
// (100 cones), BENCH_CONE_RADIUS (3600 arcsec), BENCH_CONE_PAGE (50); BENCH_CONE_DATABASE=<name> runs on that
// already filled database (a graphql bench one kept with BENCH_GRAPHQL_KEEP=1) and keeps it.
import { loadConfig } from '../src/config.ts';
import { MIGRATIONS_DIR } from '../src/project.ts';
import { ClickHouseAlertStore, type ConeCursor } from '../src/storage/alert-store.ts';
import { connectClickHouse, runCommand } from '../src/storage/clickhouse.ts';
import { migrate } from '../src/storage/migrations.ts';
import { identifier, sql } from '../src/storage/sql.ts';
import { envInteger } from './env.ts';
import { fillDatabase, sampleTargets, type FillReport } from './graphql-data.ts';
import type { BenchmarkResult } from './run.ts';

const SEED = 20261125;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)} (${sorted.length})`;
}

export async function coneBenchmark(): Promise<BenchmarkResult[]> {
  const objects = envInteger('BENCH_CONE_OBJECTS', 1_000_000, 1);
  const alertsPerObject = envInteger('BENCH_CONE_ALERTS_PER_OBJECT', 10, 1);
  const samples = envInteger('BENCH_CONE_SAMPLES', 100, 1);
  const radiusArcsec = envInteger('BENCH_CONE_RADIUS', 3600, 1);
  const pageSize = envInteger('BENCH_CONE_PAGE', 50, 1);
  const reuse = process.env.BENCH_CONE_DATABASE || undefined;
  const database = reuse ?? `bench_cone_${Date.now().toString(36)}`;
  const config = loadConfig({ overrides: { clickhouse: { database }, log: { level: 'silent' } } });
  const drop = async () => {
    if (reuse !== undefined) return;
    const server = connectClickHouse(config.clickhouse, { database: null });
    try {
      await runCommand(server, sql`DROP DATABASE IF EXISTS ${identifier(database, [database])}`);
    } finally {
      await server.close();
    }
  };
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: dropping ${database}`);
    void drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const client = connectClickHouse(config.clickhouse);
  try {
    let fill: FillReport | undefined;
    if (reuse === undefined) {
      await migrate(config.clickhouse, MIGRATIONS_DIR);
      fill = await fillDatabase(
        client,
        database,
        { objects, alertsPerObject, upperLimitsPerObject: 3, seed: SEED },
        (message) => console.error(`fill ${message}`),
      );
    }
    const store = new ClickHouseAlertStore(client);
    const targets = await sampleTargets(client, samples);
    // Warm-up: the first queries load the marks of alerts_by_hpx.
    for (const target of targets.objects.slice(0, 5)) {
      await store.cone({ ra: target.ra, dec: target.dec, radiusArcsec, limit: pageSize + 1 });
    }
    const firstPages: number[] = [];
    const laterPages: number[] = [];
    const walks: number[] = [];
    const found: number[] = [];
    const pages: number[] = [];
    for (const target of targets.objects) {
      let after: ConeCursor | undefined;
      let count = 0;
      let page = 0;
      const walkStarted = performance.now();
      for (;;) {
        const started = performance.now();
        // As coneSearchPage asks: one hit more than the page tells whether another follows.
        const hits = await store.cone({
          ra: target.ra,
          dec: target.dec,
          radiusArcsec,
          after,
          limit: pageSize + 1,
        });
        (page === 0 ? firstPages : laterPages).push(performance.now() - started);
        const kept = hits.slice(0, pageSize);
        count += kept.length;
        page++;
        if (hits.length <= pageSize) break;
        after = kept.at(-1)!;
      }
      walks.push(performance.now() - walkStarted);
      found.push(count);
      pages.push(page);
    }
    const newest: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await store.newestAlertJd();
      newest.push(performance.now() - started);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const results: BenchmarkResult[] = [
      {
        name: `cone ${radiusArcsec}" by pages of ${pageSize}, first page`,
        figures: { latency: summary(firstPages) },
      },
      {
        name: `cone ${radiusArcsec}" by pages of ${pageSize}, later pages`,
        figures: {
          latency: laterPages.length === 0 ? 'none (every cone fit one page)' : summary(laterPages),
        },
      },
      {
        name: `cone ${radiusArcsec}" walked to the end`,
        figures: {
          latency: summary(walks),
          'objects per cone (mean / max)': `${mean(found).toFixed(0)} / ${Math.max(...found)}`,
          'pages (mean / max)': `${mean(pages).toFixed(1)} / ${Math.max(...pages)}`,
        },
      },
      { name: 'newest stored alert (latestObjects window end)', figures: { latency: summary(newest) } },
    ];
    if (fill !== undefined) {
      results.push({
        name: 'fill',
        figures: { objects, alerts: objects * alertsPerObject, seconds: fill.seconds.toFixed(1) },
      });
    }
    return results;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await client.close();
    await drop();
  }
}
