// `fink demo`: the whole stack on local instances, fed with datasim alerts. The quick start's first command.
import type { Config } from '../config.ts';
import { MIGRATIONS_DIR } from '../project.ts';
import { migrate } from '../storage/migrations.ts';
import { formatServiceTable, showServices, startService } from './lifecycle.ts';

export async function runDemo(config: Config): Promise<void> {
  await startService('clickhouse', config);
  await startService('kafka', config);
  const migrations = await migrate(config.clickhouse, MIGRATIONS_DIR);
  console.log(
    `migrations: ${migrations.applied.length} applied, ${migrations.skipped.length} already applied`,
  );
  await startService('simulator', config);
  console.log();
  console.log(formatServiceTable(showServices(config)));
  console.log(`
The simulator publishes the alerts under ${config.simulator.dir}
to the Kafka topic '${config.simulator.topic}' at ${config.kafka.brokers.join(',')}.
ClickHouse answers at ${config.clickhouse.url} (database '${config.clickhouse.database}').

Not yet part of the demo: the pipeline services (stream2raw, raw2science, distribution),
the GraphQL server and the dashboard arrive with the next issues.

  ./bin/fink.js show        what runs, with pids and logs
  ./bin/fink.js stop all    stop everything`);
}
