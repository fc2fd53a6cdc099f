// `fink run <service>`: a project service in the foreground. `fink start` runs this in the background.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { runSimulator } from '../../datasim/simulator.ts';
import type { Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createKafka, ensureTopics } from '../pipeline/kafka.ts';
import { Supervisor } from './supervisor.ts';

interface RunContext {
  config: Config;
  logger: Logger;
  signal: AbortSignal;
  /** Tells `fink start` the service is up (it waits for this). */
  markReady: () => void;
}

const RUNNERS: Record<string, (context: RunContext) => Promise<void>> = {
  simulator: runSimulatorService,
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
    config,
    logger,
    signal: controller.signal,
    markReady: () => {
      mkdirSync(path.dirname(readyFile), { recursive: true });
      writeFileSync(readyFile, String(process.pid));
    },
  });
}

async function runSimulatorService({ config, logger, signal, markReady }: RunContext): Promise<void> {
  const kafka = createKafka(config.kafka, logger, 'fink-simulator');
  await ensureTopics(kafka, [config.simulator.topic], config.kafka.defaultPartitions);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
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
