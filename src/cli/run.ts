// `fink run <service>`: a project service in the foreground. `fink start` runs this in the background.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { loadReplays, runSimulator } from '../../datasim/simulator.ts';
import type { Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createMetrics, serveMetrics, type PipelineMetrics } from '../metrics.ts';
import { SURVEYS, type Alert } from '../pipeline/alert.ts';
import { openInstalledModels } from '../models/manifest.ts';
import { resolveClassifiers } from '../pipeline/classifiers/builtin.ts';
import { createFinkClassifiers } from '../pipeline/classifiers/fink/index.ts';
import { createConfiguredDecoder, createSurveyDecoders } from '../pipeline/decode/configured-decoder.ts';
import { brokerPackageVersion, createDistributionEncoder } from '../pipeline/encode/distribution.ts';
import { createFinkMessageBuilder } from '../pipeline/encode/fink-message.ts';
import { BUILTIN_FILTERS, distributionTopic } from '../pipeline/filters/builtin.ts';
import { Pipeline, retry } from '../pipeline/framework.ts';
import {
  CachingPartitioner,
  createKafka,
  ensureTopics,
  PRODUCER_RETRY,
  retryKafka,
  sendInChunks,
} from '../pipeline/kafka.ts';
import { createDistributionHandler } from '../pipeline/services/distribution.ts';
import { createRaw2ScienceHandler } from '../pipeline/services/raw2science.ts';
import { createBoundsStep } from '../pipeline/steps/bounds.step.ts';
import type { IngestLimits } from '../pipeline/decode/bounds.ts';
import { createClassificationStep } from '../pipeline/steps/classification.step.ts';
import { createCrossmatchStep } from '../pipeline/steps/crossmatch.step.ts';
import { createFeaturesStep } from '../pipeline/steps/features.step.ts';
import { createQualityCutsStep } from '../pipeline/steps/quality.step.ts';
import { createRoidStep } from '../pipeline/steps/roid.step.ts';
import { createStream2RawHandler } from '../pipeline/services/stream2raw.ts';
import { createWatchlistCache, createWatchlistStep } from '../pipeline/steps/watchlist.step.ts';
import { createWatchlistHitRecorder } from '../pipeline/watchlist-hits.ts';
import { createKafkaDeadLetterSink } from '../pipeline/sinks/dead-letter-sink.ts';
import { runKafkaBatchSource, type BatchHandler } from '../pipeline/sources/kafka-batch-source.ts';
import { connectClickHouse, type ClickHouseClient } from '../storage/clickhouse.ts';
import { ClickHouseCatalogStore } from '../storage/catalog-store.ts';
import { ClickHouseRawAlertStore } from '../storage/raw-store.ts';
import { ClickHouseScienceStore } from '../storage/science-store.ts';
import { ClickHouseWatchlistStore } from '../storage/watchlist-store.ts';
import { startSavedFilterSource, type SavedFilterSource } from '../filters/saved-source.ts';
import { launchServer } from '../server/launch.ts';
import { ClickHouseSavedFilterStore } from '../storage/saved-filter-store.ts';
import { reportToMetrics, watchStream } from './checkstream.ts';
import { metricsPortOffset } from './services.ts';
import { Supervisor } from './supervisor.ts';

export interface RunContext {
  name: string;
  config: Config;
  logger: Logger;
  signal: AbortSignal;
  /** Tells `fink start` the service is up (it waits for this). */
  markReady: () => void;
}

const RUNNERS: Record<string, (context: RunContext) => Promise<void>> = {
  simulator: runSimulatorService,
  stream2raw: runStream2Raw,
  raw2science: runRaw2Science,
  distribution: runDistribution,
  checkstream: runCheckstream,
  server: runServer,
};

export const RUNNABLE_SERVICES = Object.keys(RUNNERS);

/** Runs a service in this process until `context.signal` aborts (tests use this directly). */
export async function runServiceIn(context: RunContext): Promise<void> {
  const runner = RUNNERS[context.name];
  if (runner === undefined) {
    throw new Error(
      `'${context.name}' cannot be run in the foreground; runnable: ${RUNNABLE_SERVICES.join(', ')}`,
    );
  }
  await runner(context);
}

/** `fink run <name>`: until SIGTERM or SIGINT. */
export async function runService(name: string, config: Config): Promise<void> {
  const logger = createLogger(config.log).child({ service: name });
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping');
    controller.abort();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const readyFile = new Supervisor(config.stateDir).readyPath(name);
  try {
    await runServiceIn({
      name,
      config,
      logger,
      signal: controller.signal,
      markReady: () => {
        mkdirSync(path.dirname(readyFile), { recursive: true });
        writeFileSync(readyFile, String(process.pid));
      },
    });
  } catch (err) {
    // Stopped while waiting for Kafka or ClickHouse to come back: that wait ends with the error it retried.
    if (!controller.signal.aborted) throw err;
    logger.warn({ err }, 'stopped while waiting for a server');
  } finally {
    // Ended: a client library's timer (a reconnection scheduled during an outage) must not keep it alive.
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  }
}

/** After a service returned, how long the process may take to end by itself before it exits anyway. */
const EXIT_GRACE_MS = 3_000;

/**
 * A Kafka step of a service's start (creating topics, connecting), retried until the brokers answer: a service
 * started during an outage waits for the end of it. SIGTERM ends the wait.
 */
function whenKafkaAnswers<T>(
  what: string,
  operation: () => Promise<T>,
  { logger, signal }: Pick<RunContext, 'logger' | 'signal'>,
): Promise<T> {
  return retry(
    operation,
    retryKafka({
      signal,
      onRetry: (err, attempt, delayMs) =>
        logger.warn({ err, attempt, delayMs, what }, 'Kafka not available; waiting for it'),
    }),
  );
}

async function connectedProducer(kafka: Kafka, context: Pick<RunContext, 'logger' | 'signal'>) {
  const producer = kafka.producer({
    createPartitioner: CachingPartitioner,
    idempotent: false,
    // No retry inside kafkajs (PRODUCER_RETRY: it can drop messages when a broker dies); a leader moving or an
    // outage is waited out by the callers' retryKafka, which also stops at SIGTERM.
    retry: PRODUCER_RETRY,
  });
  await whenKafkaAnswers('connecting the producer', () => producer.connect(), context);
  return producer;
}

/** Disconnects, at most a few seconds: after an outage with SIGTERM the brokers may not answer at all. */
async function disconnectProducer(producer: Producer, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)));
  await Promise.race([
    producer
      .disconnect()
      .catch((err: unknown) => logger.warn({ err }, 'producer did not disconnect cleanly')),
    timeout,
  ]);
  clearTimeout(timer);
}

async function runSimulatorService(context: RunContext): Promise<void> {
  const { config, logger, signal, markReady } = context;
  const replays = await loadReplays(config.simulator);
  const kafka = createKafka(config.kafka, logger, 'fink-simulator');
  await whenKafkaAnswers(
    'creating topics',
    () =>
      ensureTopics(
        kafka,
        replays.map((replay) => replay.topic),
        config.kafka.defaultPartitions,
        config.kafka,
      ),
    context,
  );
  const producer = await connectedProducer(kafka, context);
  markReady();
  const retrySends = retryKafka({
    signal,
    onRetry: (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs }, 'send failed; retrying'),
  });
  try {
    await runSimulator(
      replays,
      config.simulator,
      // acks=-1 in sendInChunks: a sent alert is a stored alert. A broker outage is waited out.
      {
        send: (topic, messages) =>
          sendInChunks(producer, topic, messages, config.kafka.maxRequestBytes, retrySends),
      },
      logger,
      signal,
    );
  } finally {
    await disconnectProducer(producer, logger);
  }
}

/**
 * The pipeline services write a batch every second or so: without keep-alive, a stopping ClickHouse is not kept
 * busy by their next requests (see ConnectOptions.keepAlive), and after a restart no stale connection is tried.
 */
const PIPELINE_CLICKHOUSE = { keepAlive: false } as const;

/** What every pipeline service shares: Kafka, metrics, the topics it owns, and its consumer loop. */
async function runPipelineService(
  context: RunContext,
  topics: string[],
  createHandler: (deps: { kafka: Kafka; producer: Producer; metrics: PipelineMetrics }) => BatchHandler,
): Promise<void> {
  const { name, config, logger, signal, markReady } = context;
  const { pipeline } = config;
  const kafka = createKafka(config.kafka, logger, `fink-${name}`);
  const simulatorTopics = [config.simulator.topic, config.simulator.rubinTopic];
  await whenKafkaAnswers(
    'creating topics',
    () =>
      ensureTopics(
        kafka,
        [
          pipeline.scienceTopic,
          pipeline.deadLetterTopic,
          // raw2science publishes watchlist hits there (src/pipeline/watchlist-hits.ts).
          ...(name === 'raw2science' ? [config.server.eventsTopic] : []),
          ...topics.filter((t) => simulatorTopics.includes(t)),
        ],
        config.kafka.defaultPartitions,
        config.kafka,
      ),
    context,
  );
  const metrics = createMetrics(name);
  const metricsServer = await serveMetrics(
    metrics.registry,
    metricsPortOf(config, name),
    logger,
    config.pipeline.metricsHost,
  );
  const producer = await connectedProducer(kafka, context);
  try {
    await runKafkaBatchSource({
      kafka,
      groupId: `${pipeline.groupPrefix}-${name}`,
      topics,
      fromBeginning: pipeline.fromBeginning,
      maxBatchMessages: pipeline.batchMaxMessages,
      maxBatchAgeMs: pipeline.batchMaxAgeMs,
      sessionTimeoutMs: pipeline.sessionTimeoutMs,
      handler: createHandler({ kafka, producer, metrics }),
      logger,
      signal,
      onReady: markReady,
    });
  } finally {
    await disconnectProducer(producer, logger);
    metricsServer?.close();
  }
}

async function runStream2Raw(context: RunContext): Promise<void> {
  const { config, logger, signal } = context;
  const clickhouse = connectClickHouse(config.clickhouse, PIPELINE_CLICKHOUSE);
  try {
    await runPipelineService(context, config.pipeline.topics, ({ producer, metrics }) =>
      createStream2RawHandler({
        decoder: createConfiguredDecoder(config),
        store: new ClickHouseRawAlertStore(clickhouse),
        deadLetters: createKafkaDeadLetterSink(
          producer,
          config.pipeline.deadLetterTopic,
          'stream2raw',
          config.kafka.maxRequestBytes,
          logger,
        ),
        limits: ingestLimits(config),
        metrics,
        logger,
        signal,
      }),
    );
  } finally {
    await clickhouse.close();
  }
}

async function runCheckstream(context: RunContext): Promise<void> {
  const { name, config, logger, signal, markReady } = context;
  const kafka = createKafka(config.kafka, logger, 'fink-checkstream');
  const metrics = createMetrics(name);
  const server = await serveMetrics(
    metrics.registry,
    metricsPortOf(config, name),
    logger,
    config.pipeline.metricsHost,
  );
  markReady();
  try {
    // Watches until SIGTERM; an outage ends a watch, which starts again once the brokers answer.
    await whenKafkaAnswers(
      'sampling the stream',
      () =>
        watchStream({
          kafka,
          config,
          intervalMs: 5_000,
          signal,
          onSample: reportToMetrics(metrics, logger),
        }),
      context,
    );
  } finally {
    server?.close();
  }
}

function metricsPortOf(config: Config, service: string): number {
  const base = config.pipeline.metricsPort;
  return base === 0 ? 0 : base + metricsPortOffset(service);
}

function ingestLimits({ pipeline }: Config): IngestLimits {
  return {
    maxHistoryPoints: pipeline.maxHistoryPoints,
    maxCutoutBytes: pipeline.maxCutoutBytes,
    maxStringLength: pipeline.maxStringLength,
  };
}

async function runRaw2Science(context: RunContext): Promise<void> {
  const { config, logger, signal } = context;
  // Before anything connects: missing or corrupt model files stop the service with the command that repairs them.
  const fink = await createFinkClassifiers(
    await openInstalledModels(config.models.cacheDir, config.models.finkScienceVersion),
  );
  logger.info(
    { finkScienceVersion: fink.finkScienceVersion, kilonova: fink.kilonovaInstalled },
    "Fink's classifiers loaded",
  );
  const clickhouse = connectClickHouse(config.clickhouse, PIPELINE_CLICKHOUSE);
  const catalogs = new ClickHouseCatalogStore(clickhouse);
  const watchlists = new ClickHouseWatchlistStore(clickhouse);
  const pipeline = Pipeline.start<Alert>()
    .step(createBoundsStep(ingestLimits(config)))
    .step(createQualityCutsStep())
    .step(createRoidStep())
    .batch(createCrossmatchStep({ catalogs }))
    .step(createFeaturesStep())
    .batch(
      createClassificationStep({
        fink,
        heuristics: resolveClassifiers(config.pipeline.heuristicClassifiers),
      }),
    )
    .batch(createWatchlistStep({ watchlists: createWatchlistCache(watchlists) }));
  try {
    await runPipelineService(context, config.pipeline.topics, ({ producer, metrics }) =>
      createRaw2ScienceHandler({
        decoder: createConfiguredDecoder(config),
        pipeline,
        store: new ClickHouseScienceStore(clickhouse),
        producer,
        scienceTopic: config.pipeline.scienceTopic,
        maxRequestBytes: config.kafka.maxRequestBytes,
        deadLetters: createKafkaDeadLetterSink(
          producer,
          config.pipeline.deadLetterTopic,
          'raw2science',
          config.kafka.maxRequestBytes,
          logger,
        ),
        recordWatchlistHits: createWatchlistHitRecorder({
          store: watchlists,
          producer,
          eventsTopic: config.server.eventsTopic,
          maxRequestBytes: config.kafka.maxRequestBytes,
          logger,
        }),
        brokerVersion: brokerPackageVersion(),
        cutoutCheck: config.pipeline.cutoutCheck,
        metrics,
        logger,
        signal,
      }),
    );
  } finally {
    await clickhouse.close();
  }
}

async function runDistribution(context: RunContext): Promise<void> {
  const { config, logger, signal } = context;
  const kafka = createKafka(config.kafka, logger, 'fink-distribution');
  const prefix = config.pipeline.distributionPrefix;
  const topics = BUILTIN_FILTERS.flatMap((filter) =>
    SURVEYS.map((survey) => distributionTopic(prefix, filter.name, survey)),
  );
  await whenKafkaAnswers(
    'creating topics',
    () => ensureTopics(kafka, topics, config.kafka.defaultPartitions, config.kafka),
    context,
  );
  // Saved filters with `distribute: true` (GraphQL) run besides the built-in ones, reloaded every few seconds.
  const clickhouse = connectClickHouse(config.clickhouse, PIPELINE_CLICKHOUSE);
  try {
    const savedFilters = await startSavedFilterSource({
      store: new ClickHouseSavedFilterStore(clickhouse),
      logger,
      signal,
    });
    await runDistributionWith(context, kafka, prefix, savedFilters, clickhouse);
  } finally {
    await clickhouse.close();
  }
}

async function runDistributionWith(
  context: RunContext,
  kafka: Kafka,
  prefix: string,
  savedFilters: SavedFilterSource,
  clickhouse: ClickHouseClient,
): Promise<void> {
  const { config, logger, signal } = context;
  const finkMessage = createFinkMessageBuilder({
    ...createSurveyDecoders(config),
    encoder: createDistributionEncoder(),
  });
  await runPipelineService(context, [config.pipeline.scienceTopic], ({ producer, metrics }) =>
    createDistributionHandler({
      filters: BUILTIN_FILTERS,
      savedFilters,
      archive: new ClickHouseRawAlertStore(clickhouse),
      finkMessage,
      ensureTopics: (fresh) => ensureTopics(kafka, fresh, config.kafka.defaultPartitions, config.kafka),
      topicPrefix: prefix,
      producer,
      maxRequestBytes: config.kafka.maxRequestBytes,
      deadLetters: createKafkaDeadLetterSink(
        producer,
        config.pipeline.deadLetterTopic,
        'distribution',
        config.kafka.maxRequestBytes,
        logger,
      ),
      metrics,
      logger,
      signal,
    }),
  );
}

/** The GraphQL server (HTTP + WebSocket), GraphiQL, cutouts and the dashboard, until stopped. */
async function runServer({ config, logger, signal, markReady }: RunContext): Promise<void> {
  const launched = await launchServer(config, logger);
  markReady();
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await launched.close();
}
