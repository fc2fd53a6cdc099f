// `fink demo`: the whole stack on local instances, fed with the real datasim alerts. The quick start's first
// command: everything it starts keeps running in the background until `fink stop all`.
import path from 'node:path';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createKafka } from '../pipeline/kafka.ts';
import { sampleStream } from '../pipeline/services/checkstream.ts';
import { MIGRATIONS_DIR } from '../project.ts';
import { buildDashboard } from '../server/dashboard.ts';
import { connectClickHouse, queryRows } from '../storage/clickhouse.ts';
import { migrate } from '../storage/migrations.ts';
import { sql } from '../storage/sql.ts';
import {
  finkWheelCatalogs,
  loadCatalogFile,
  wheelCatalogDir,
  type CatalogFileRequest,
} from './catalog-command.ts';
import { formatStreamStatus, watchStream } from './checkstream.ts';
import { ensureModelsInstalled } from './models-command.ts';
import { formatServiceTable, showServices, startService } from './lifecycle.ts';
import { kafkaServiceNames } from './local-kafka-cluster.ts';
import { Supervisor, waitUntil } from './supervisor.ts';
import { formatTable } from './table.ts';

/** The shared catalogs with the radii the Fink broker uses for them. */
export function sharedCatalogs(sharedDir: string): CatalogFileRequest[] {
  const file = (name: string) => path.join(sharedDir, 'catalogs', name);
  const none = { idColumn: null, extraColumns: [], overriding: false };
  return [
    {
      ...none,
      name: 'gcvs',
      file: file('gcvs.parquet'),
      ra: 'ra',
      dec: 'dec',
      radiusArcsec: 1.5,
      typeColumn: 'VarType',
    },
    {
      ...none,
      name: 'spicy',
      file: file('spicy.parquet'),
      ra: 'RAdeg',
      dec: 'DEdeg',
      radiusArcsec: 1.2,
      typeColumn: 'class',
    },
    {
      ...none,
      name: '3hsp',
      file: file('3hsp.csv'),
      ra: 'R.A.',
      dec: 'Dec',
      radiusArcsec: 60,
      idColumn: '3HSP Source name',
      typeColumn: null,
    },
  ];
}

/** What the demo loads (the integration tests too): the shared catalogs, then the fink-science wheel's. */
export function demoCatalogs(config: Pick<Config, 'sharedDir' | 'models'>): CatalogFileRequest[] {
  return [...sharedCatalogs(config.sharedDir), ...finkWheelCatalogs(wheelCatalogDir(config))];
}

const PIPELINE = ['stream2raw', 'raw2science', 'distribution', 'checkstream', 'server'];

export async function runDemo(base: Config): Promise<void> {
  // The pipeline reads the simulator's topics (what `fink start <service> --simulator` does).
  const config: Config = {
    ...base,
    pipeline: { ...base.pipeline, topics: [base.simulator.topic, base.simulator.rubinTopic] },
  };
  await startService('clickhouse', config);
  for (const name of kafkaServiceNames(config)) await startService(name, config);
  const migrations = await migrate(config.clickhouse, MIGRATIONS_DIR);
  console.log(
    `migrations: ${migrations.applied.length} applied, ${migrations.skipped.length} already applied`,
  );
  // raw2science scores alerts with Fink's models, and the wheel that holds them ships Fink's catalogs too.
  await ensureModelsInstalled(config);
  for (const catalog of demoCatalogs(config)) {
    const { rows, seconds } = await loadCatalogFile(config, catalog);
    console.log(`catalog ${catalog.name}: ${rows} sources loaded in ${seconds.toFixed(1)} s`);
  }
  // The server serves the dashboard from its build: made now (a couple of seconds) when web/ changed.
  if (await buildDashboard()) console.log('dashboard built');
  for (const service of PIPELINE) await startService(service, config);
  await startService('simulator', config);

  console.log('\nwaiting for the alerts to be enriched and stored...');
  const summary = await waitForAlerts(config);
  console.log(`\n${summary}\n`);
  const logger = createLogger({ level: 'error' });
  await watchStream({
    kafka: createKafka(config.kafka, logger, 'fink-demo'),
    config,
    intervalMs: 0,
    signal: new AbortController().signal,
    once: true,
    onSample: (rows) => console.log(`${formatStreamStatus(rows)}\n`),
  });
  console.log(formatServiceTable(showServices(config)));
  console.log(`
Kafka: ${config.kafka.brokers.join(',')}   ClickHouse: ${config.clickhouse.url} (database '${config.clickhouse.database}')
Distribution topics: ${config.pipeline.distributionPrefix}_<filter>_<survey>, readable with fink-client.
Dashboard (live alerts, objects, search, statistics): http://${config.server.host}:${config.server.port}/
GraphQL (HTTP and WebSocket): http://${config.server.host}:${config.server.port}/graphql
GraphiQL, with example operations: http://${config.server.host}:${config.server.port}/graphiql
  ./bin/fink.js token create --user me --role annotator    a token for mutations (Authorization: Bearer ...)

  ./bin/fink.js checkstream      watch rates and consumer lag live
  ./bin/fink.js show             what runs, with pids and logs
  ./bin/fink.js stop all         stop everything`);
}

/** Waits until the simulator finished and the pipeline consumed everything, then summarises what was stored. */
async function waitForAlerts(config: Config): Promise<string> {
  const kafka = createKafka(config.kafka, createLogger({ level: 'error' }), 'fink-demo');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = ['stream2raw', 'raw2science'].map((name) => `${config.pipeline.groupPrefix}-${name}`);
    const supervisor = new Supervisor(config.stateDir);
    const caughtUp = await waitUntil(async () => {
      if (supervisor.status('simulator').state === 'running') return false;
      const { rows } = await sampleStream(admin, config.pipeline.topics, groups, undefined);
      return rows.every((row) => groups.every((group) => row.lag[group] === 0));
    }, 120_000);
    if (!caughtUp)
      console.log('(the pipeline has not caught up after 2 minutes; see ./bin/fink.js checkstream)');
  } finally {
    await admin.disconnect();
  }
  const client = connectClickHouse(config.clickhouse);
  try {
    const rows = await queryRows<{ survey: string; class: string; alerts: string; objects: string }>(
      client,
      sql`SELECT survey, class, count() AS alerts, uniqExact(object_id) AS objects
          FROM alerts FINAL GROUP BY survey, class ORDER BY survey, alerts DESC`,
    );
    const [archive] = await queryRows<{ n: string }>(client, sql`SELECT count() AS n FROM raw_alerts FINAL`);
    return (
      `archived ${archive?.n ?? 0} alerts; stored after the quality cuts, by class:\n` +
      formatTable(
        ['SURVEY', 'CLASS', 'ALERTS', 'OBJECTS'],
        rows.map((r) => [r.survey, r.class, r.alerts, r.objects]),
      )
    );
  } finally {
    await client.close();
  }
}
