// The services `fink start|stop|show` know, how each is started, and how we tell it is ready.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { configToEnv, ConfigError, type Config } from '../config.ts';
import { PROJECT_ROOT } from '../project.ts';
import { connectClickHouse, pingClickHouse } from '../storage/clickhouse.ts';
import { cancelLocalClickHouseQueries, prepareLocalClickHouse } from './local-clickhouse.ts';
import { CLICKHOUSE_CLUSTER_SERVICES } from './local-clickhouse-cluster.ts';
import { prepareLocalKafka } from './local-kafka.ts';
import { KAFKA_CLUSTER_SERVICES } from './local-kafka-cluster.ts';
import { kafkaAnswers } from './probes.ts';
import type { SpawnSpec } from './supervisor.ts';

export interface ServiceDefinition {
  name: string;
  summary: string;
  /** What `fink start` spawns; undefined when the service is external and nothing runs here. */
  prepare(config: Config): SpawnSpec | undefined;
  /** The addresses a local instance listens on, checked free before starting; none when external. */
  listens?(config: Config): { host: string; port: number }[];
  /** Runs before SIGTERM when `fink stop` stops a running instance (best effort, errors ignored). */
  beforeStop?(config: Config): Promise<void>;
  /** One readiness probe; `readyFile` is the file a node service writes once it runs. */
  isReady(config: Config, readyFile: string): Promise<boolean>;
  /** True for a job that ends by itself (exit 0 is success, not a crash). */
  finite?: boolean;
  /** True for a service implemented in this project (`fink run <name>`), false for the servers it runs. */
  project?: boolean;
  /**
   * Nodes of one consensus quorum carry its name: `fink stop` stops those it stops together, all at once. Stopped
   * one after the other, the last ones wait for their gone peers (a KRaft broker's controlled shutdown needs
   * a controller majority) until they are killed.
   */
  quorum?: string;
}

const FINK_BIN = path.join(PROJECT_ROOT, 'bin', 'fink.js');

/** A service implemented in this project: `fink run <name>` in the background, ready once it says so. */
function nodeService(name: string, summary: string, finite = false): ServiceDefinition {
  return {
    name,
    summary,
    finite,
    project: true,
    prepare: (config) => ({
      command: process.execPath,
      args: [FINK_BIN, 'run', name],
      // The child reads the very config this process resolved, whatever file and flags produced it.
      env: { ...process.env, ...configToEnv(config) },
      cwd: process.cwd(),
    }),
    isReady: (_config, readyFile) => fileExists(readyFile),
  };
}

/**
 * The local cluster (`fink start cluster`, `fink stop cluster`), in start order; stopped in reverse. Each part
 * brings its own services: one line per part.
 */
export const CLUSTER_SERVICES: readonly ServiceDefinition[] = [
  ...CLICKHOUSE_CLUSTER_SERVICES,
  ...KAFKA_CLUSTER_SERVICES,
];

/** Names that stand for several services, in start order. */
export const SERVICE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  cluster: CLUSTER_SERVICES.map((service) => service.name),
};

export const SERVICES: readonly ServiceDefinition[] = [
  {
    name: 'clickhouse',
    summary: 'local ClickHouse server (Debian clickhouse-server)',
    prepare: (config) =>
      config.clickhouse.mode === 'local'
        ? prepareLocalClickHouse(config.clickhouse, config.stateDir)
        : undefined,
    listens: ({ clickhouse: { mode, host, httpPort, tcpPort } }) =>
      mode === 'local'
        ? [
            { host, port: httpPort },
            { host, port: tcpPort },
          ]
        : [],
    beforeStop: (config) => cancelLocalClickHouseQueries(config.clickhouse),
    isReady: async (config) => {
      const client = connectClickHouse(config.clickhouse, { database: null, quiet: true });
      try {
        return await pingClickHouse(client);
      } finally {
        await client.close();
      }
    },
  },
  {
    name: 'kafka',
    summary: 'local Kafka 3.9 broker (KRaft, single node)',
    prepare: (config) => {
      if (config.kafka.mode === 'cluster') {
        throw new ConfigError(
          `kafka.mode is cluster: the brokers are ${KAFKA_CLUSTER_SERVICES.map((s) => s.name).join(', ')} ` +
            `(fink start cluster), not kafka`,
        );
      }
      return config.kafka.mode === 'local' ? prepareLocalKafka(config.kafka, config.stateDir) : undefined;
    },
    listens: ({ kafka: { mode, host, port, controllerPort } }) =>
      mode === 'local'
        ? [
            { host, port },
            { host, port: controllerPort },
          ]
        : [],
    isReady: ({ kafka }) => kafkaAnswers(kafka.brokers),
  },
  // Infrastructure before the services that use it: `fink stop all` stops in reverse order.
  ...CLUSTER_SERVICES,
  nodeService('stream2raw', 'archives every upstream alert, as received, in ClickHouse'),
  nodeService('raw2science', 'decodes, enriches and stores alerts; publishes them to the science topic'),
  nodeService(
    'distribution',
    'runs the filters over the science stream and publishes fink_<filter>_<survey>',
  ),
  nodeService('checkstream', 'live view of the stream: rates, totals and consumer lag per topic'),
  {
    ...nodeService('server', 'GraphQL API (HTTP + WebSocket), GraphiQL, cutouts and dashboard'),
    prepare: (config) => {
      const spec = nodeService('server', '').prepare(config)!;
      // A bounded heap: V8 collects to stay under it instead of growing the process during a burst.
      return { ...spec, args: [`--max-old-space-size=${config.server.maxHeapMb}`, ...spec.args] };
    },
    listens: ({ server }) => [{ host: server.host, port: server.port }],
  },

  nodeService('simulator', 'replays alert files onto a Kafka topic (datasim)', true),
];

export const SERVICE_NAMES = SERVICES.map((service) => service.name);

/**
 * The metrics port of a project service: pipeline.metricsPort + 2 + its rank among the project services (the
 * ports the first of them had when SERVICES held the two local servers only; servers added since do not move them).
 */
export function metricsPortOffset(name: string): number {
  return 2 + SERVICES.filter((service) => service.project === true).findIndex((s) => s.name === name);
}

/** The services a name stands for: a group's members in start order, or the one service. */
export function expandServiceName(name: string): readonly string[] {
  return SERVICE_GROUPS[name] ?? [name];
}

export function findService(name: string): ServiceDefinition | undefined {
  return SERVICES.find((service) => service.name === name);
}

function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
