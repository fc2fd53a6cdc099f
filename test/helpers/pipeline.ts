// Runs the real pipeline services in this process against a fresh database and fresh topics, so that each test
// sees only its own alerts; stops them at the end.
import { readFileSync } from 'node:fs';
import { loadCatalogFile } from '../../src/cli/catalog-command.ts';
import { demoCatalogs } from '../../src/cli/demo.ts';
import { runServiceIn } from '../../src/cli/run.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createArchiveCutoutStore } from '../../src/pipeline/archive-cutouts.ts';
import { createConfiguredDecoder } from '../../src/pipeline/decode/configured-decoder.ts';
import { ensureTopics } from '../../src/pipeline/kafka.ts';
import type { StoredCutouts } from '../../src/storage/cutout-store.ts';
import { ClickHouseRawAlertStore } from '../../src/storage/raw-store.ts';
import { createMigratedDatabase, type TestDatabase } from './clickhouse.ts';
import { finkModels } from './fink-models.ts';
import { testConfig, uniqueName } from './context.ts';
import { connectedProducer, testKafka } from './kafka.ts';
import { waitFor } from './wait.ts';

export interface PipelineSandbox {
  config: Config;
  db: TestDatabase;
  upstream: string;
  /** Loads the catalogs the demo loads (shared, then the fink-science wheel's) into this sandbox's database. */
  loadDemoCatalogs(): Promise<void>;
  /** Starts a service in this process; resolves once it joined its consumer group. */
  start(service: 'stream2raw' | 'raw2science' | 'distribution'): Promise<void>;
  publish(values: Buffer[]): Promise<void>;
  /** The cutouts of these alerts as the server serves them (from the raw archive). */
  cutouts(alertIds: bigint[]): Promise<Map<bigint, StoredCutouts>>;
  stop(): Promise<void>;
}

/** `clickhouse` overrides the test config's section (the cluster tests point it at the local cluster). */
export async function createPipelineSandbox(
  prefix: string,
  pipeline: Record<string, unknown> = {},
  clickhouse: Record<string, unknown> = {},
): Promise<PipelineSandbox> {
  const db = await createMigratedDatabase(prefix, clickhouse);
  const kafka = testKafka();
  const upstream = uniqueName(`${prefix}_upstream`);
  const base = testConfig();
  const config = testConfig({
    clickhouse: { ...clickhouse, database: db.config.database },
    pipeline: {
      topics: [upstream],
      scienceTopic: uniqueName(`${prefix}_science`),
      deadLetterTopic: uniqueName(`${prefix}_dead`),
      distributionPrefix: uniqueName(prefix),
      groupPrefix: uniqueName(prefix),
      batchMaxAgeMs: 300,
      metricsPort: 0,
      ...pipeline,
    },
    // Watchlist hits and other server events of this sandbox only.
    server: { eventsTopic: uniqueName(`${prefix}_events`) },
    simulator: { topic: upstream },
    log: { level: 'silent' },
  });
  await ensureTopics(kafka, [upstream], base.kafka.defaultPartitions, base.kafka);
  const running: { controller: AbortController; done: Promise<void> }[] = [];
  const producer = await connectedProducer(kafka);

  return {
    config,
    db,
    upstream,
    async loadDemoCatalogs() {
      // The wheel's catalogs come with the models.
      await finkModels();
      for (const catalog of demoCatalogs(config)) await loadCatalogFile(config, catalog);
    },
    async start(service) {
      // raw2science scores with Fink's models: installed once when missing, as `fink start raw2science` does.
      if (service === 'raw2science') await finkModels();
      const controller = new AbortController();
      let ready = false;
      const done = runServiceIn({
        name: service,
        config,
        logger: createLogger(config.log),
        signal: controller.signal,
        markReady: () => (ready = true),
      });
      running.push({ controller, done });
      let failed: Error | undefined;
      done.catch((err: unknown) => (failed = err instanceof Error ? err : new Error(String(err))));
      await waitFor(() => {
        if (failed !== undefined) throw failed;
        return ready;
      }, 60_000);
    },
    async publish(values) {
      for (let i = 0; i < values.length; i += 100) {
        await producer.send({
          topic: upstream,
          acks: -1,
          messages: values.slice(i, i + 100).map((value) => ({ value })),
        });
      }
    },
    cutouts(alertIds) {
      const store = createArchiveCutoutStore(
        new ClickHouseRawAlertStore(db.client),
        createConfiguredDecoder(config),
      );
      return store.byAlertIds(alertIds);
    },
    async stop() {
      for (const { controller } of running) controller.abort();
      await Promise.all(running.map(({ done }) => done));
      await producer.disconnect();
      await db.drop();
    },
  };
}

export function readAll(files: string[]): Buffer[] {
  return files.map((file) => readFileSync(file));
}
