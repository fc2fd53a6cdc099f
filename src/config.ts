// The only reader of process.env and of config files. Everything else receives a typed section.
//
// Precedence: defaults < config file (`-c <file>`, or FINK_CONFIG) < environment (FINK_<SECTION>__<KEY>).
// An unknown or invalid key fails at start with an error naming the key.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const hostname = z.string().min(1);

const clickhouseSchema = z
  .object({
    /** `local`: `fink start clickhouse` runs Debian's clickhouse-server here; `external`: connect only. */
    mode: z.enum(['local', 'external']).default('local'),
    /** HTTP endpoint of ClickHouse (the client speaks HTTP). For `local`, host and httpPort below win. */
    url: z.url().optional(),
    host: hostname.default('127.0.0.1'),
    httpPort: port.default(18123),
    tcpPort: port.default(19000),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a database name is letters, digits and _')
      .default('fink'),
    username: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a user name is letters, digits and _')
      .default('default'),
    password: z.string().default(''),
    /** The server binary used by `local` mode; installed with apt-get when missing. */
    serverBinary: z.string().default('/usr/sbin/clickhouse-server'),
    requestTimeoutMs: z.number().int().positive().default(60_000),
    /**
     * Cluster mode: the name of the cluster in the servers' remote_servers. Migrations then create replicated
     * `<table>_local` tables and Distributed tables in front of them, ON CLUSTER (src/storage/cluster-ddl.ts).
     * Unset: a single server, plain tables.
     */
    cluster: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a cluster name is letters, digits and _')
      .optional(),
    /**
     * More HTTP endpoints of the same data (other nodes of the cluster): a client whose node refuses connections
     * goes on with the next one. The first request goes to `url` (or host:httpPort), then these in order.
     */
    urls: z.array(z.url()).default([]),
    /** `fink start cluster`: the local 2 shards x 2 replicas; node i (s1r1, s1r2, s2r1, s2r2) listens on port + i. */
    localCluster: z
      .object({
        name: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a cluster name is letters, digits and _')
          .default('fink'),
        httpPort: port.default(28123),
        tcpPort: port.default(29000),
        interserverPort: port.default(29009),
        /** Per node: 4 nodes share the machine (the single server's is 512 MB). */
        markCacheMb: z.number().int().min(8).default(64),
        maxMemoryUsageMb: z.number().int().min(256).default(3000),
        /** Background merge and fetch threads per node (defaults 16 each, sized for a machine of its own). */
        backgroundPoolSize: z.number().int().min(1).default(4),
        backgroundSchedulePoolSize: z.number().int().min(1).default(4),
      })
      .strict()
      .default({
        name: 'fink',
        httpPort: 28123,
        tcpPort: 29000,
        interserverPort: 29009,
        markCacheMb: 64,
        maxMemoryUsageMb: 3000,
        backgroundPoolSize: 4,
        backgroundSchedulePoolSize: 4,
      }),
  })
  .strict();

const zookeeperSchema = z
  .object({
    /** The ZooKeeper of the local cluster (`fink start zookeeper`, part of `fink start cluster`). */
    host: hostname.default('127.0.0.1'),
    port: port.default(22181),
    /** ZooKeeper version of the jars resolved from Maven Central (infra/zookeeper/pom.xml). */
    version: z
      .string()
      .regex(/^3\.\d+\.\d+$/, 'a ZooKeeper 3.x.y version')
      .default('3.9.5'),
    /** Where the jars are cached, outside the repository; ~ is the home directory. */
    cacheDir: z.string().default('~/.cache/fink'),
    heapMb: z.number().int().min(64).default(256),
  })
  .strict();

const kafkaSchema = z
  .object({
    /**
     * `local`: `fink start kafka` runs a single-node KRaft broker from its jars; `cluster`: `fink start kafka-1`,
     * `kafka-2`, `kafka-3` run a local 3-broker KRaft cluster (src/cli/local-kafka-cluster.ts); `external`:
     * connect only.
     */
    mode: z.enum(['local', 'cluster', 'external']).default('local'),
    /** Bootstrap servers. For `local`, derived from host and port; for `cluster`, from host and clusterPorts. */
    brokers: z.array(z.string().min(1)).min(1).optional(),
    host: hostname.default('127.0.0.1'),
    port: port.default(19092),
    controllerPort: port.default(19093),
    clientId: z.string().default('fink'),
    /** Kafka version of the jars resolved from Maven Central (infra/kafka/pom.xml). */
    version: z
      .string()
      .regex(/^3\.9\.\d+$/, 'a Kafka 3.9.x version')
      .default('3.9.1'),
    /** Where the jars are cached, outside the repository; ~ is the home directory. */
    cacheDir: z.string().default('~/.cache/fink'),
    heapMb: z.number().int().min(128).default(512),
    /** Largest produce request we send, key + value bytes (brokers refuse batches over message.max.bytes). */
    maxRequestBytes: z.number().int().min(100_000).default(1_000_000),
    /** Partitions of topics the broker creates on first use. */
    defaultPartitions: z.number().int().min(1).default(2),
    /**
     * Replicas of every topic fink creates; unset leaves it to the brokers' default.replication.factor (1 on the
     * local single broker, 3 on the local cluster). More than one needs as many brokers.
     */
    replicationFactor: z.number().int().min(1).optional(),
    /**
     * min.insync.replicas of every topic fink creates: with acks=all (every fink producer), a write is
     * acknowledged once this many replicas have it, and refused while fewer are in sync. Unset: the brokers'.
     */
    minInsyncReplicas: z.number().int().min(1).optional(),
    /** `cluster` mode: the client port of kafka-1, kafka-2, kafka-3 (on host). */
    clusterPorts: z.tuple([port, port, port]).default([29092, 29093, 29094]),
    /** `cluster` mode: the controller (KRaft quorum) port of kafka-1, kafka-2, kafka-3. */
    clusterControllerPorts: z.tuple([port, port, port]).default([29192, 29193, 29194]),
  })
  .strict()
  .superRefine((kafka, context) => {
    const brokers =
      kafka.mode === 'local' ? 1 : kafka.mode === 'cluster' ? kafka.clusterPorts.length : undefined;
    if (brokers !== undefined && kafka.replicationFactor !== undefined && kafka.replicationFactor > brokers) {
      context.addIssue({
        code: 'custom',
        path: ['replicationFactor'],
        message: `${kafka.replicationFactor} replicas need as many brokers; kafka.mode ${kafka.mode} runs ${brokers}`,
      });
    }
    if (
      kafka.minInsyncReplicas !== undefined &&
      kafka.minInsyncReplicas > (kafka.replicationFactor ?? brokers ?? Infinity)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['minInsyncReplicas'],
        message: `more than the replicas (kafka.replicationFactor): no write would ever be acknowledged`,
      });
    }
  });

const simulatorSchema = z
  .object({
    /** Directory of Avro alert files (searched recursively), or a single file. Relative to sharedDir if not absolute. */
    dir: z.string().default('datasim/ztf'),
    topic: z.string().min(1).default('ztf-stream-sim'),
    /** Topic of the Rubin replay (Confluent-framed messages). */
    rubinTopic: z.string().min(1).default('lsst-stream-sim'),
    /** Which streams to replay: ZTF files from `dir`, Rubin alerts from `rubinFile`, or both interleaved. */
    survey: z.enum(['ztf', 'lsst', 'all']).default('all'),
    /** Rubin alerts (Parquet with the alert structure), relative to sharedDir unless absolute. */
    rubinFile: z.string().default('datasim/lsst/rubin-2026-01-v10_0.parquet'),
    /** The Rubin schema the replay is encoded with; its id (major * 100 + minor) goes in every message. */
    rubinSchemaDir: z.string().default('datasim/lsst/schema/10/0'),
    /** Alerts per second; 0 sends as fast as the broker takes them. */
    rate: z.number().min(0).default(0),
    /** Alerts to send in all; 0 means every file once (or forever with loop). */
    count: z.number().int().min(0).default(0),
    loop: z.boolean().default(false),
  })
  .strict();

const pipelineSchema = z
  .object({
    /** Upstream alert topics of the live streams (both surveys; each message's format tells which survey). */
    topics: z.array(z.string().min(1)).min(1).default(['ztf_public', 'lsst_alerts']),
    /** Where a new consumer group starts: the whole retained stream, or only what arrives from now on. */
    fromBeginning: z.boolean().default(true),
    /** Consumer groups are <groupPrefix>-<service>. */
    groupPrefix: z.string().min(1).default('fink'),
    /** The enriched alerts raw2science publishes: the GraphQL server's live feed and distribution's input. */
    scienceTopic: z.string().min(1).default('fink_science'),
    /** Distribution topics are <distributionPrefix>_<filter>_<survey>, as the Fink broker names them. */
    distributionPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'a Kafka topic prefix')
      .default('fink'),
    /** Messages that cannot be decoded, with the reason in their headers. */
    deadLetterTopic: z.string().min(1).default('fink_dead_letters'),
    /** A batch is written when it holds this many alerts or is this old: about one insert per second per table. */
    batchMaxMessages: z.number().int().min(1).default(5000),
    batchMaxAgeMs: z.number().int().min(10).default(1000),
    /** A crashed worker's partitions go to the others after this long (heartbeats keep live ones in). */
    sessionTimeoutMs: z.number().int().min(6000).default(30_000),
    /** Confluent-compatible schema registry for Rubin alerts; unset uses only the local schema directories. */
    schemaRegistryUrl: z.url().optional(),
    /** Rubin schema ids known without a registry: id -> directory of .avsc files (relative to sharedDir). */
    rubinSchemas: z
      .record(z.string().regex(/^\d+$/), z.string())
      .default({ '1000': 'datasim/lsst/schema/10/0' }),
    /**
     * What one alert may carry (src/pipeline/decode/bounds.ts): history points, bytes per cutout, characters per
     * string of the survey record. Beyond them the alert is dead-lettered by raw2science (its bytes are archived).
     */
    maxHistoryPoints: z.number().int().min(1).default(5000),
    maxCutoutBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    maxStringLength: z.number().int().min(16).default(1024),
    /**
     * How raw2science checks each stored cutout is a readable FITS image (src/pipeline/cutout-check.ts):
     * `structure` (gzip and FITS headers, and the data size the gzip trailer records: ~0.1 ms per ZTF alert; a
     * stream corrupt inside its compressed pixels is found only when served) or `full` (inflates and reads every
     * pixel, as the cutout endpoint does: ~0.5 ms more per ZTF alert, exact counts).
     */
    cutoutCheck: z.enum(['structure', 'full']).default('structure'),
    /**
     * Optional heuristic classifier plugins run besides Fink's classifiers (src/pipeline/classifiers/builtin.ts:
     * heuristic_snia_early, heuristic_sn_candidate, heuristic_kilonova, heuristic_microlensing); none by default.
     */
    heuristicClassifiers: z.array(z.string()).default([]),
    /** Prometheus metrics: service i listens on metricsPort + i (0 disables). */
    metricsPort: z.number().int().min(0).max(65535).default(19100),
    /**
     * The address the metrics listen on: loopback by default; 0.0.0.0 in a container, where Prometheus and the
     * kubelet's probes reach the pod's own address (deploy/helm/fink sets it).
     */
    metricsHost: hostname.default('127.0.0.1'),
  })
  .strict();

const serverSchema = z
  .object({
    /** `fink start server`: GraphQL over HTTP and WebSocket (same path), GraphiQL, cutouts, dashboard. */
    host: hostname.default('127.0.0.1'),
    port: port.default(4000),
    /** Absolute base of the URLs the API returns (cutouts); unset: http://<host>:<port> (never a request's Host). */
    publicUrl: z.url().optional(),
    /** Queries without a token are allowed (read-only); false: every operation needs a token. */
    anonymousRead: z.boolean().default(true),
    /**
     * Operations deeper or costlier than these are refused before they run. Cost: about one unit per value the
     * server produces, lists multiplied by their page size or expected length, cones by their area (README).
     */
    maxDepth: z.number().int().min(2).default(10),
    maxCost: z.number().int().min(10).default(200_000),
    /** Tokens (names, punctuation, values) of one GraphQL document; larger inputs go in variables. */
    maxQueryTokens: z.number().int().min(100).default(5000),
    /** Largest HTTP request body, and largest WebSocket message. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    /** An operation still running after this long is ended, its ClickHouse queries killed. */
    requestTimeoutMs: z.number().int().min(100).default(10_000),
    /** Rows and bytes one operation may read from ClickHouse in all (its queries together). */
    maxRowsPerRequest: z.number().int().min(1).default(100_000),
    maxBytesPerRequest: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** A result larger than this (JSON bytes) is replaced by a RESPONSE_TOO_LARGE error. */
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /**
     * V8 heap of the server process (`fink start server` passes --max-old-space-size): the garbage collector
     * works to stay under it, so the server's memory stays bounded and comes back after a burst.
     */
    maxHeapMb: z.number().int().min(128).default(1024),
    /** Per client address: operations per second (token bucket of `addressBurst`) and operations in flight. */
    addressRatePerSecond: z.number().positive().default(100),
    addressBurst: z.number().int().min(1).default(200),
    addressConcurrency: z.number().int().min(1).default(8),
    /** Per API token, the same, besides its address's limits. */
    tokenRatePerSecond: z.number().positive().default(100),
    tokenBurst: z.number().int().min(1).default(200),
    tokenConcurrency: z.number().int().min(1).default(8),
    /** WebSocket connections one client address may hold; more are refused with HTTP 429. */
    maxConnectionsPerAddress: z.number().int().min(1).default(100),
    /** How long a token's stored row is reused before it is read again (revocation takes effect within it). */
    tokenCacheMs: z.number().int().min(0).max(2000).default(1000),
    /** Page sizes: `first` is at most maxPageSize; lists of ids at most maxIds. */
    defaultPageSize: z.number().int().min(1).default(50),
    maxPageSize: z.number().int().min(1).default(500),
    maxIds: z.number().int().min(1).default(1000),
    /** Cone searches: radius in arcsec, at most this (1 degree). */
    maxConeRadiusArcsec: z.number().positive().default(3600),
    /** Live subscriptions: at most this many per WebSocket connection. */
    maxSubscriptionsPerConnection: z.number().int().min(1).default(20),
    /**
     * Live fan-out: subscriber deliveries woken per event-loop turn (queries are served between turns), and how
     * far behind a subscriber may fall before it is disconnected (4429).
     */
    liveDeliveriesPerTurn: z.number().int().min(1).default(128),
    liveMaxLagMs: z.number().int().min(100).default(5000),
    /** A client whose unsent bytes exceed this is disconnected (close code 4429) so it never delays others. */
    slowClientBufferBytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    /** Annotations, votes and watchlist hits as JSON events, consumed by every server for subscriptions. */
    eventsTopic: z.string().min(1).default('fink_events'),
    /** Follow-up requests as JSON, for the facilities' own consumers (and the server's subscriptions). */
    followupTopic: z.string().min(1).default('fink_followups'),
    /** Webhook deliveries: attempts with exponential back-off, and the timeout of each. */
    webhookAttempts: z.number().int().min(1).default(5),
    webhookTimeoutMs: z.number().int().min(100).default(5000),
  })
  .strict();

const servicesSchema = z
  .object({
    /** How long `fink start` waits for a service to become ready. */
    startTimeoutMs: z.number().int().positive().default(120_000),
    /** How long `fink stop` waits after SIGTERM before SIGKILL. */
    stopTimeoutMs: z.number().int().positive().default(20_000),
  })
  .strict();

const modelsSchema = z
  .object({
    /**
     * The fink-science release whose wheel (PyPI) provides the trained models and the catalogs that ship with it;
     * `fink models install` fetches it once into <cacheDir>/fink-science-<version>.
     */
    finkScienceVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'a fink-science release, e.g. 7.4.0')
      .default('7.4.0'),
    /** Where the wheel, the extracted and converted models and the manifest are cached; ~ is the home directory. */
    cacheDir: z.string().default('~/.cache/fink/models'),
    /** The interpreter that runs pip and builds the small conversion environment (numpy only). */
    python: z.string().min(1).default('python3'),
    /**
     * A checkout of github.com/b-biswas/kndetect (v1.0.0), for the kilonova classifier: fink-science 7.4.0 loads
     * its forest from the kndetect package, which is neither in the wheel nor on PyPI. Unset: no kilonova score.
     */
    kndetectDir: z.string().min(1).optional(),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export const configSchema = z
  .object({
    /** Pid files, logs and the local servers' data. Relative paths are resolved against the working directory. */
    stateDir: z.string().default('.fink'),
    /** The read-only shared data (real alerts, catalogs). */
    sharedDir: z.string().default('../shared'),
    clickhouse: clickhouseSchema.default(clickhouseSchema.parse({})),
    kafka: kafkaSchema.default(kafkaSchema.parse({})),
    zookeeper: zookeeperSchema.default(zookeeperSchema.parse({})),
    simulator: simulatorSchema.default(simulatorSchema.parse({})),
    pipeline: pipelineSchema.default(pipelineSchema.parse({})),
    server: serverSchema.default(serverSchema.parse({})),
    services: servicesSchema.default(servicesSchema.parse({})),
    models: modelsSchema.default(modelsSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
  })
  .strict();

type ParsedConfig = z.infer<typeof configSchema>;

export type ClickHouseConfig = ParsedConfig['clickhouse'] & { url: string };
export type KafkaConfig = ParsedConfig['kafka'] & { brokers: string[]; cacheDir: string };
export type ZooKeeperConfig = ParsedConfig['zookeeper'];
export type SimulatorConfig = ParsedConfig['simulator'];
export type PipelineConfig = ParsedConfig['pipeline'];
export type ServerConfig = ParsedConfig['server'];
export type ServicesConfig = ParsedConfig['services'];
export type LogConfig = ParsedConfig['log'];
export type ModelsConfig = ParsedConfig['models'];

export interface Config {
  stateDir: string;
  sharedDir: string;
  clickhouse: ClickHouseConfig;
  kafka: KafkaConfig;
  zookeeper: ZooKeeperConfig;
  simulator: SimulatorConfig;
  pipeline: PipelineConfig;
  server: ServerConfig;
  services: ServicesConfig;
  models: ModelsConfig;
  log: LogConfig;
  /** The file the config was read from, if any. */
  file: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables read besides the FINK_<SECTION>__<KEY> overrides. */
const CONFIG_FILE_ENV = 'FINK_CONFIG';
const ENV_PREFIX = 'FINK_';

export interface LoadConfigOptions {
  /** Path of a YAML or JSON config file; FINK_CONFIG is used when absent. */
  file?: string | undefined;
  /** Overrides applied last, as a nested object of config keys (used by CLI flags and tests). */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env[CONFIG_FILE_ENV];
  const fromFile = file === undefined ? {} : readConfigFile(path.resolve(cwd, file));
  const fromEnv = configFromEnv(env);
  const merged = deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {});
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error, file));
  }
  return resolveConfig(result.data, cwd, file === undefined ? undefined : path.resolve(cwd, file));
}

function resolveConfig(parsed: ParsedConfig, cwd: string, file: string | undefined): Config {
  const { clickhouse, kafka } = parsed;
  const sharedDir = path.resolve(cwd, parsed.sharedDir);
  return {
    ...parsed,
    file,
    stateDir: path.resolve(cwd, parsed.stateDir),
    sharedDir,
    clickhouse: {
      ...clickhouse,
      url:
        clickhouse.mode === 'local' || clickhouse.url === undefined
          ? `http://${clickhouse.host}:${clickhouse.httpPort}`
          : clickhouse.url,
    },
    kafka: {
      ...kafka,
      brokers:
        kafka.mode === 'cluster'
          ? kafka.clusterPorts.map((clusterPort) => `${kafka.host}:${clusterPort}`)
          : kafka.mode === 'local' || kafka.brokers === undefined
            ? [`${kafka.host}:${kafka.port}`]
            : kafka.brokers,
      cacheDir: path.resolve(cwd, kafka.cacheDir.replace(/^~(?=$|\/)/, homedir())),
    },
    zookeeper: {
      ...parsed.zookeeper,
      cacheDir: path.resolve(cwd, parsed.zookeeper.cacheDir.replace(/^~(?=$|\/)/, homedir())),
    },
    models: {
      ...parsed.models,
      cacheDir: path.resolve(cwd, parsed.models.cacheDir.replace(/^~(?=$|\/)/, homedir())),
      ...(parsed.models.kndetectDir === undefined
        ? {}
        : { kndetectDir: path.resolve(cwd, parsed.models.kndetectDir.replace(/^~(?=$|\/)/, homedir())) }),
    },
    simulator: {
      ...parsed.simulator,
      dir: path.resolve(sharedDir, parsed.simulator.dir),
      rubinFile: path.resolve(sharedDir, parsed.simulator.rubinFile),
      rubinSchemaDir: path.resolve(sharedDir, parsed.simulator.rubinSchemaDir),
    },
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(`config file ${file} must hold a mapping of keys`);
  return value;
}

/** FINK_KAFKA__PORT=9092 -> { kafka: { port: 9092 } }; FINK_SHARED_DIR=/data -> { sharedDir: '/data' }. */
function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const known = envNames();
  const result: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || raw === undefined) continue;
    const keyPath = known.get(name);
    if (keyPath === undefined) {
      throw new ConfigError(`unknown environment variable ${name}: no config key has that name`);
    }
    setPath(result, keyPath, parseEnvValue(raw));
  }
  return result;
}

/** Every env name the schema accepts, from its own shape, so the two cannot drift apart. */
function envNames(): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      for (const sub of Object.keys(inner.shape)) {
        names.set(`${ENV_PREFIX}${screamingSnake(key)}__${screamingSnake(sub)}`, [key, sub]);
      }
    } else {
      names.set(`${ENV_PREFIX}${screamingSnake(key)}`, [key]);
    }
  }
  return names;
}

/**
 * The environment that reproduces `config` in a child process (services started in the background).
 * Values are JSON, which the YAML reading of env values parses back to the same types.
 */
export function configToEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, keyPath] of envNames()) {
    let value: unknown = config;
    for (const key of keyPath) value = (value as Record<string, unknown>)[key];
    if (value !== undefined) env[name] = JSON.stringify(value);
  }
  return env;
}

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodDefault || schema instanceof z.ZodOptional
    ? unwrap(schema.unwrap() as z.ZodType)
    : schema;
}

function screamingSnake(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Env values are YAML scalars: 19092 is a number, true a boolean, [a, b] a list, anything else a string. */
function parseEnvValue(raw: string): unknown {
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}

function formatIssues(error: z.ZodError, file: string | undefined): string {
  const where = file === undefined ? '' : ` (config file ${file})`;
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `unknown config key ${[...issue.path, key].join('.')}`).join('\n');
    }
    return `invalid config key ${issue.path.join('.')}: ${issue.message}`;
  });
  return `${lines.join('\n')}${where}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  const [head, ...rest] = keyPath;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = isPlainObject(target[head]) ? target[head] : {};
  target[head] = child;
  setPath(child, rest, value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}
