// The Kafka client, with kafkajs's own logging routed into ours.
import {
  Kafka,
  logLevel,
  Partitioners,
  type ICustomPartitioner,
  type LogEntry,
  type Message,
  type Producer,
} from 'kafkajs';
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

/**
 * Sends messages in requests of at most `maxBytes` (key + value), concurrently. A broker refuses a record batch
 * above its message.max.bytes (1 MB by default on clusters we do not run), and alerts are 60-120 KB each.
 */
export async function sendInChunks(
  producer: Producer,
  topic: string,
  messages: readonly Message[],
  maxBytes: number,
): Promise<void> {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message.key) + sizeOf(message.value);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  await Promise.all(chunks.map((part) => producer.send({ topic, messages: part, acks: -1 })));
}

function sizeOf(data: Message['value'] | Message['key']): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/**
 * kafkajs's default partitioner, remembering its answer per key Buffer. Science and distribution messages carry
 * their ~20 KB schema JSON as key, one shared Buffer per schema, and murmur2 over it in emulated 64-bit
 * arithmetic cost ~7 ms of CPU per message (measured in bench/e2e). Same partitions as the default, hashed once.
 */
export const CachingPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const cache = new WeakMap<Buffer, Map<string, number>>();
  return (args) => {
    const { key } = args.message;
    if (!Buffer.isBuffer(key)) return partition(args);
    const byLayout = cache.get(key) ?? new Map<string, number>();
    cache.set(key, byLayout);
    const layout = `${args.topic}/${args.partitionMetadata.length}`;
    let chosen = byLayout.get(layout);
    if (chosen === undefined) {
      chosen = partition(args);
      byLayout.set(layout, chosen);
    }
    return chosen;
  };
};
