// The `fink` command. Keeps the Fink broker's shape: `fink start|stop|show <service> [-c conf]`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeSyntheticAlerts } from '../../datasim/synthetic.ts';
import { loadConfig, type Config } from '../config.ts';
import { MIGRATIONS_DIR } from '../project.ts';
import { migrate } from '../storage/migrations.ts';
import { createLogger } from '../logger.ts';
import { createKafka } from '../pipeline/kafka.ts';
import { formatStreamStatus, watchStream } from './checkstream.ts';
import { registerCatalogCommands } from './catalog-command.ts';
import { ensureModelsInstalled, registerModelsCommands } from './models-command.ts';
import { registerTokenCommands } from './token-command.ts';
import { configOption } from './options.ts';
import { runDemo } from './demo.ts';
import { formatServiceTable, showServices, startService, stopAll, stopServices } from './lifecycle.ts';
import { runService } from './run.ts';
import { expandServiceName, SERVICE_GROUPS, SERVICE_NAMES } from './services.ts';
import { runTests } from './test-command.ts';

const program = new Command('fink')
  .description('Fink: a GraphQL alert broker for ZTF and Rubin alert streams')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

function config(options: { config?: string }, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ file: options.config, overrides });
}

interface StartOptions {
  config?: string;
  simulator?: boolean;
  rate?: number;
  count?: number;
  loop?: boolean;
  dir?: string;
  topic?: string;
  survey?: string;
}

program
  .command('start')
  .description(
    `start a service in the background (${SERVICE_NAMES.join(', ')}), or a group of them ` +
      `(${Object.entries(SERVICE_GROUPS)
        .map(([group, names]) => `${group}: ${names.join(', ')}`)
        .join('; ')})`,
  )
  .argument('<service>', 'service or group name')
  .addOption(configOption())
  .option('--simulator', "pipeline services: read the simulator's topics instead of the live streams")
  .option('--rate <alerts/s>', 'simulator: alerts per second (0 = as fast as possible)', Number)
  .option('--count <n>', 'simulator: alerts to send (0 = every file once)', (v) => Number.parseInt(v, 10))
  .option('--loop', 'simulator: replay the files until stopped')
  .option('--dir <path>', 'simulator: directory of Avro alert files')
  .option('--topic <name>', 'simulator: Kafka topic of the ZTF replay')
  .addOption(
    new Option('--survey <survey>', 'simulator: which streams to replay').choices(['ztf', 'lsst', 'all']),
  )
  .action(async (service: string, options: StartOptions) => {
    const { rate, count, loop, dir, topic, survey } = options;
    const simulator = Object.fromEntries(
      Object.entries({ rate, count, loop, dir, topic, survey }).filter(([, value]) => value !== undefined),
    );
    const resolved = config(options, { simulator });
    const topics = [resolved.simulator.topic, resolved.simulator.rubinTopic];
    // raw2science scores alerts with Fink's models: installed first when missing (once, with progress).
    if (service === 'raw2science') await ensureModelsInstalled(resolved);
    for (const name of expandServiceName(service)) {
      await startService(
        name,
        options.simulator === true ? config(options, { simulator, pipeline: { topics } }) : resolved,
      );
    }
  });

program
  .command('stop')
  .description('stop a service (SIGTERM, then SIGKILL after a timeout), a group, or all of them')
  .argument('<service>', `${SERVICE_NAMES.join(', ')}, ${Object.keys(SERVICE_GROUPS).join(', ')} or all`)
  .addOption(configOption())
  .action(async (service: string, options: { config?: string }) => {
    const resolved = config(options);
    if (service === 'all') await stopAll(resolved);
    else await stopServices([...expandServiceName(service)].reverse(), resolved);
  });

program
  .command('show')
  .description('list the services with their state, pid, uptime and log file')
  .addOption(configOption())
  .action((options: { config?: string }) => {
    console.log(formatServiceTable(showServices(config(options))));
  });

program
  .command('checkstream')
  .description('watch the stream: messages per topic, rate, and lag of each pipeline consumer group')
  .addOption(configOption())
  .option('--once', 'print one sample and exit')
  .option('--interval <seconds>', 'seconds between samples', Number, 2)
  .action(async (options: { config?: string; once?: boolean; interval: number }) => {
    const resolved = config(options);
    const logger = createLogger({ level: 'error' });
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    await watchStream({
      kafka: createKafka(resolved.kafka, logger, 'fink-checkstream-cli'),
      config: resolved,
      intervalMs: options.interval * 1000,
      signal: controller.signal,
      once: options.once === true,
      onSample: (rows) => console.log(`\n${new Date().toISOString()}\n${formatStreamStatus(rows)}`),
    });
  });

program
  .command('migrate')
  .description('apply the migrations in migrations/ to ClickHouse (idempotent)')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    const resolved = config(options);
    const result = await migrate(resolved.clickhouse, MIGRATIONS_DIR);
    console.log(
      `database ${resolved.clickhouse.database}: applied ${result.applied.length} migration(s)` +
        `${result.applied.length > 0 ? ` (${result.applied.join(', ')})` : ''}, ${result.skipped.length} already applied`,
    );
  });

program
  .command('demo')
  .description('bring up the whole stack on local ClickHouse and Kafka and feed it datasim alerts')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    await runDemo(config(options));
  });

program
  .command('test')
  .description('run every test: starts local ClickHouse and Kafka if needed, stops what it started')
  .addOption(configOption())
  .argument('[vitest-args...]', 'extra arguments for vitest (e.g. a file filter)')
  .action(async (vitestArgs: string[], options: { config?: string }) => {
    process.exitCode = await runTests(config(options), vitestArgs);
  });

const datasim = program.command('datasim').description('alert data for tests and benchmarks');

datasim
  .command('generate')
  .description('write seeded synthetic ZTF alerts (schema 4.02, one Avro container file each) to a directory')
  .requiredOption('--out <dir>', 'directory to write <candid>.avro files into')
  .option('--count <n>', 'number of alerts', positiveInteger, 1000)
  .option('--seed <n>', 'seed: the same seed writes the same bytes', positiveInteger, 1)
  .option('--objects <n>', 'distinct objects (default: count / 3)', positiveInteger)
  .option('--nights <n>', 'nights the alerts spread over', positiveInteger)
  .action((options: { out: string; count: number; seed: number; objects?: number; nights?: number }) => {
    const { out, ...generator } = options;
    const started = performance.now();
    const result = writeSyntheticAlerts(out, generator);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `wrote ${result.files} synthetic alerts (${(result.bytes / 1e6).toFixed(1)} MB) to ${out} in ${seconds.toFixed(1)} s`,
    );
  });

registerCatalogCommands(program, (options) => config(options));
registerModelsCommands(program, (options) => config(options));
registerTokenCommands(program, (options) => config(options));

program
  .command('run', { hidden: true })
  .description('run a project service in the foreground (what `fink start` runs in the background)')
  .argument('<service>')
  .addOption(configOption())
  .action(async (service: string, options: { config?: string }) => {
    await runService(service, config(options));
  });

try {
  await program.parseAsync();
} catch (err) {
  const error = err as Error;
  const expected = [
    'ConfigError',
    'ServiceError',
    'InstallError',
    'MigrationError',
    'StorageError',
    'CatalogError',
    'CatalogReadError',
  ];
  console.error(`fink: ${expected.includes(error.name) ? error.message : (error.stack ?? String(error))}`);
  process.exitCode = 1;
}
