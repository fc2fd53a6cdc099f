// `fink run <service>`: a project service in the foreground. `fink start` runs this in the background.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { runSimulator } from '../../datasim/simulator.ts';
import type { Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createMetrics, serveMetrics, type PipelineMetrics } from '../metrics.ts';
import { createAlertDecoder } from '../pipeline/decode/alert-decoder.ts';
import { createZtfDecoder } from '../pipeline/decode/ztf-avro.ts';
import { createKafka, ensureTopics } from '../pipeline/kafka.ts';
import { createStream2RawHandler } from '../pipeline/services/stream2raw.ts';
import { createKafkaDeadLetterSink } from '../pipeline/sinks/dead-letter-sink.ts';
import { runKafkaBatchSource, type BatchHandler } from '../pipeline/sources/kafka-batch-source.ts';
import { connectClickHouse } from '../storage/clickhouse.ts';
import { ClickHouseRawAlertStore } from '../storage/raw-store.ts';
import { reportToMetrics, watchStream } from './checkstream.ts';
import { SERVICE_NAMES } from './services.ts';
import { Supervisor } from './supervisor.ts';

interface RunContext {
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
  checkstream: runCheckstream,
};

export const RUNNABLE_SERVICES = Object.keys(RUNNERS);

export async function runService(name: string, config: Config): Promise<void> {
  const runner = RUNNERS[name];
  if (runner === undefined) {
    throw new Error(`'${name}' cannot be run in the foreground; runnable: ${RUNNABLE_SERVICES.join(', ')}`);
  }
  const logger = createLogger(config.log).child({ service: name });
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping');
    controller.abort();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const readyFile = new Supervisor(config.stateDir).readyPath(name);
  await runner({
    name,
    config,
    logger,
    signal: controller.signal,
    markReady: () => {
      mkdirSync(path.dirname(readyFile), { recursive: true });
      writeFileSync(readyFile, String(process.pid));
    },
  });
}

async function connectedProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: false });
  await producer.connect();
  return producer;
}

async function runSimulatorService({ config, logger, signal, markReady }: RunContext): Promise<void> {
  const kafka = createKafka(config.kafka, logger, 'fink-simulator');
  await ensureTopics(kafka, [config.simulator.topic], config.kafka.defaultPartitions);
  const producer = await connectedProducer(kafka);
  markReady();
  try {
    await runSimulator(
      config.simulator,
      {
        send: async (topic, messages) => {
          // Alerts are already compressed (gzipped cutouts dominate); acks=-1 so a sent alert is a stored alert.
          await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
        },
      },
      logger,
      signal,
    );
  } finally {
    await producer.disconnect();
  }
}

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
  await ensureTopics(
    kafka,
    [pipeline.scienceTopic, pipeline.deadLetterTopic, ...topics.filter((t) => simulatorTopics.includes(t))],
    config.kafka.defaultPartitions,
  );
  const metrics = createMetrics(name);
  const metricsServer = await serveMetrics(metrics.registry, metricsPortOf(config, name), logger);
  const producer = await connectedProducer(kafka);
  try {
    await runKafkaBatchSource({
      kafka,
      groupId: `${pipeline.groupPrefix}-${name}`,
      topics,
      fromBeginning: pipeline.fromBeginning,
      maxBatchMessages: pipeline.batchMaxMessages,
      maxBatchAgeMs: pipeline.batchMaxAgeMs,
      handler: createHandler({ kafka, producer, metrics }),
      logger,
      signal,
      onReady: markReady,
    });
  } finally {
    await producer.disconnect();
    metricsServer?.close();
  }
}

async function runStream2Raw(context: RunContext): Promise<void> {
  const { config, logger, signal } = context;
  const clickhouse = connectClickHouse(config.clickhouse);
  try {
    await runPipelineService(context, config.pipeline.topics, ({ producer, metrics }) =>
      createStream2RawHandler({
        decoder: createAlertDecoder({ ztf: createZtfDecoder() }),
        store: new ClickHouseRawAlertStore(clickhouse),
        deadLetters: createKafkaDeadLetterSink(producer, config.pipeline.deadLetterTopic, 'stream2raw'),
        metrics,
        logger,
        signal,
      }),
    );
  } finally {
    await clickhouse.close();
  }
}

async function runCheckstream({ name, config, logger, signal, markReady }: RunContext): Promise<void> {
  const kafka = createKafka(config.kafka, logger, 'fink-checkstream');
  const metrics = createMetrics(name);
  const server = await serveMetrics(metrics.registry, metricsPortOf(config, name), logger);
  markReady();
  try {
    await watchStream({
      kafka,
      config,
      intervalMs: 5_000,
      signal,
      onSample: reportToMetrics(metrics, logger),
    });
  } finally {
    server?.close();
  }
}

function metricsPortOf(config: Config, service: string): number {
  const base = config.pipeline.metricsPort;
  return base === 0 ? 0 : base + SERVICE_NAMES.indexOf(service);
}
