// Cutout requests served from the raw archive (`raw_alerts`, each alert's bytes as received, decoded to its
// images: the cutouts are stored once), at the table's granularity and, optionally, at others, alternating the
// same random lookups on one machine in one sitting. (Before migration 0010 a second copy lived in a `cutouts`
// table; BENCHMARKS.md keeps its figures, measured by this benchmark's earlier form.)
//
// FITS is the stored image (what the FITS endpoint sends); PNG adds the zscale rendering of the science image.
// Settings: BENCH_CUTOUT_ALERTS (default 100,000 synthetic ZTF alerts with cutouts, ~52 KB each: ~5 GB a copy),
// BENCH_CUTOUT_REQUESTS (default 400 per layout), BENCH_CUTOUT_GRANULARITIES (e.g. 64,16: the raw archive copied
// at those index granularities and measured too).
import { performance } from 'node:perf_hooks';
import { generateSyntheticAlerts } from '../datasim/synthetic.ts';
import { loadConfig } from '../src/config.ts';
import { MIGRATIONS_DIR } from '../src/project.ts';
import { createArchiveCutoutStore } from '../src/pipeline/archive-cutouts.ts';
import { createAlertDecoder } from '../src/pipeline/decode/alert-decoder.ts';
import { ztfToAlert } from '../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder } from '../src/pipeline/decode/ztf-avro.ts';
import { renderCutoutPng } from '../src/server/cutout-image.ts';
import { parseFitsImage, fitsBytes } from '../src/pipeline/decode/fits.ts';
import { connectClickHouse, queryRows, runCommand } from '../src/storage/clickhouse.ts';
import type { CutoutStore } from '../src/storage/cutout-store.ts';
import { migrate } from '../src/storage/migrations.ts';
import { ClickHouseRawAlertStore, type RawAlertRow } from '../src/storage/raw-store.ts';
import { identifier, sql } from '../src/storage/sql.ts';
import { envInteger } from './env.ts';
import type { BenchmarkResult } from './run.ts';

const BATCH = 2_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export async function cutoutsBenchmark(): Promise<BenchmarkResult[]> {
  const count = envInteger('BENCH_CUTOUT_ALERTS', 100_000, 1_000);
  const requests = envInteger('BENCH_CUTOUT_REQUESTS', 400, 10);
  const base = loadConfig();
  const database = `bench_cutouts_${Date.now().toString(36)}`;
  const server = connectClickHouse(base.clickhouse, { database: null });
  await runCommand(server, sql`CREATE DATABASE ${identifier(database, [database])}`);
  const config = { ...base.clickhouse, database };
  await migrate(config, MIGRATIONS_DIR);
  const client = connectClickHouse(config);
  const raw = new ClickHouseRawAlertStore(client);
  const decoder = createZtfDecoder();
  const ids: bigint[] = [];
  const granularities = (process.env.BENCH_CUTOUT_GRANULARITIES ?? '')
    .split(',')
    .filter((g) => g !== '')
    .map(Number);
  const copies: string[] = [];
  const clients: ReturnType<typeof connectClickHouse>[] = [];
  try {
    const fillStart = performance.now();
    let rawRows: RawAlertRow[] = [];
    const flush = async () => {
      await raw.write(rawRows);
      rawRows = [];
    };
    let offset = 0n;
    for (const synthetic of generateSyntheticAlerts({ seed: 20261202, count })) {
      const { alert, schemaJson } = decoder.decodeWithSchema(synthetic.bytes);
      const mapped = ztfToAlert(alert, schemaJson);
      ids.push(mapped.alertId);
      rawRows.push({
        survey: 'ztf',
        alertId: mapped.alertId,
        objectId: mapped.objectId,
        ra: mapped.ra,
        dec: mapped.dec,
        jd: mapped.jd,
        topic: 'bench',
        partition: 0,
        offset: offset++,
        receivedAt: new Date(),
        payload: synthetic.bytes,
        problem: '',
      });
      if (rawRows.length >= BATCH) await flush();
    }
    await flush();
    await runCommand(client, sql`OPTIMIZE TABLE raw_alerts FINAL`);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const sizes = await queryRows<{ table: string; bytes: string; rows: string }>(
      client,
      sql`SELECT table, sum(bytes_on_disk) AS bytes, sum(rows) AS rows FROM system.parts
          WHERE database = ${database} AND active AND table = 'raw_alerts' GROUP BY table`,
    );

    const stores: Record<string, CutoutStore> = {
      'raw archive': createArchiveCutoutStore(raw, createAlertDecoder({ ztf: createZtfDecoder() })),
    };
    // The raw archive at other index granularities (a point lookup reads whole granules of ~50 KB rows).
    for (const granularity of granularities) {
      const copy = `${database}_g${granularity}`;
      await runCommand(server, sql`CREATE DATABASE ${identifier(copy, [copy])}`);
      copies.push(copy);
      const table = identifier(`${copy}.raw_alerts`, [`${copy}.raw_alerts`]);
      const source = identifier(`${database}.raw_alerts`, [`${database}.raw_alerts`]);
      await runCommand(
        server,
        sql`CREATE TABLE ${table} AS ${source}
            ENGINE = ReplacingMergeTree(received_at) PARTITION BY toYYYYMM(received_at) ORDER BY (survey, alert_id)
            SETTINGS index_granularity = ${granularity}`,
      );
      await runCommand(server, sql`INSERT INTO ${table} SELECT * FROM ${source}`);
      await runCommand(server, sql`OPTIMIZE TABLE ${table} FINAL`);
      const copyClient = connectClickHouse({ ...base.clickhouse, database: copy });
      clients.push(copyClient);
      stores[`raw archive, granularity ${granularity}`] = createArchiveCutoutStore(
        new ClickHouseRawAlertStore(copyClient),
        createAlertDecoder({ ztf: createZtfDecoder() }),
      );
    }
    const times: Record<string, { fits: number[]; png: number[] }> = {};
    for (const name of Object.keys(stores)) times[name] = { fits: [], png: [] };
    let state = 12345;
    const pick = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return ids[state % ids.length]!;
    };
    // Alternating layouts, a fresh random id each time: both see the same mix of cold and warm granules.
    for (let i = 0; i < requests; i++) {
      for (const [name, store] of Object.entries(stores)) {
        const id = pick();
        const start = performance.now();
        const found = (await store.byAlertIds([id])).get(id);
        const science = found?.science;
        if (science == null) throw new Error(`${name}: no cutouts for ${id}`);
        fitsBytes(science);
        const fitsDone = performance.now();
        renderCutoutPng(parseFitsImage(fitsBytes(science)));
        const pngDone = performance.now();
        times[name]!.fits.push(fitsDone - start);
        times[name]!.png.push(pngDone - start);
      }
    }
    const results: BenchmarkResult[] = [];
    for (const [name, { fits, png }] of Object.entries(times)) {
      fits.sort((a, b) => a - b);
      png.sort((a, b) => a - b);
      results.push({
        name: `cutouts (${name}, ${count.toLocaleString('en')} alerts)`,
        figures: {
          'FITS p50 ms': percentile(fits, 0.5).toFixed(1),
          'FITS p99 ms': percentile(fits, 0.99).toFixed(1),
          'PNG p50 ms': percentile(png, 0.5).toFixed(1),
          'PNG p99 ms': percentile(png, 0.99).toFixed(1),
          requests: fits.length,
        },
      });
    }
    results.push({
      name: 'cutouts storage',
      figures: {
        ...Object.fromEntries(
          sizes.map((s) => [`${s.table} MB on disk`, (Number(s.bytes) / 2 ** 20).toFixed(0)]),
        ),
        'fill s': fillSeconds.toFixed(0),
      },
    });
    return results;
  } finally {
    for (const c of clients) await c.close();
    for (const copy of copies)
      await runCommand(server, sql`DROP DATABASE IF EXISTS ${identifier(copy, [copy])}`);
    await client.close();
    await runCommand(server, sql`DROP DATABASE IF EXISTS ${identifier(database, [database])}`);
    await server.close();
  }
}
