// The Kafka client, with kafkajs's own logging routed into ours.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '../config.ts';
import type { Logger } from '../logger.ts';

export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.clientId): Kafka {
  const log = logger.child({ module: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: config.brokers,
    // kafkajs logs every retried connection as an error; those are warnings for us, and we surface real failures.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        if (level <= logLevel.WARN) log.warn(fields, message);
        else log.debug(fields, message);
      },
  });
}

/** Creates the topics that do not exist yet (idempotent). */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions })),
        waitForLeaders: true,
      });
    }
  } finally {
    await admin.disconnect();
  }
}
