// The Kafka client, with kafkajs's own logging routed into ours.
import {
  Kafka,
  logLevel,
  type Admin,
  Partitioners,
  type ICustomPartitioner,
  type LogEntry,
  type Message,
  type Producer,
} from 'kafkajs';
import type { KafkaConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { retry, type RetryOptions } from './framework.ts';
import { useNativeCrc32c } from './kafka-crc32c.ts';

export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.clientId): Kafka {
  const log = logger.child({ module: 'kafkajs' });
  useNativeCrc32c();
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

/**
 * kafkajs errors that an outage produces and that go away when the brokers answer again: connections refused or
 * closed, timeouts, leaders and coordinators moving, group membership lost with the coordinator. kafkajs marks
 * some of them non-retriable (a coordinator not found after its retries, a lock or wait timeout, a member the
 * coordinator forgot), but for a service that must outlive a broker restart they are all "try again later".
 */
const TRANSIENT_KAFKA_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
]);

/** Protocol errors about group membership: a new consumer joins afresh. */
const TRANSIENT_PROTOCOL_ERRORS = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'MEMBER_ID_REQUIRED',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
]);

interface ErrorLike {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * True when a Kafka operation that failed with `error` may succeed later without anyone changing anything:
 * the error (or what caused it) is an outage symptom, or kafkajs marks it retriable, or it is kafkajs giving up
 * its own retries of such an error. False for the rest: refused requests (authorization, a message too large,
 * an invalid topic), misconfiguration, and anything that is not a Kafka error at all (a bug).
 */
export function isRetriableKafkaError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  const e = error as ErrorLike;
  if (typeof e.name === 'string' && TRANSIENT_KAFKA_ERRORS.has(e.name)) return true;
  if (typeof e.type === 'string' && TRANSIENT_PROTOCOL_ERRORS.has(e.type)) return true;
  if (e.name === 'KafkaJSAggregateError' && Array.isArray(e.errors) && e.errors.length > 0) {
    return e.errors.every((inner) => isRetriableKafkaError(inner, depth + 1));
  }
  if (e.retriable === true) return true;
  // KafkaJSNumberOfRetriesExceeded (non-retriable itself) and other wrappers: what they wrap decides.
  return e.cause !== undefined && isRetriableKafkaError(e.cause, depth + 1);
}

/**
 * Retry options for a Kafka operation of a service: retried with backoff for as long as the error is an outage
 * symptom (isRetriableKafkaError), until it succeeds or `signal` aborts (SIGTERM), so a broker restart is waited
 * out and never loses or drops a message. A non-retriable error fails at once.
 */
export function retryKafka(
  options: Pick<RetryOptions, 'signal' | 'onRetry' | 'isRetriable'> = {},
): RetryOptions {
  return {
    initialDelayMs: 500,
    maxDelayMs: 5_000,
    attempts: Infinity,
    ...options,
    isRetriable: options.isRetriable ?? isRetriableKafkaError,
  };
}

/** How many copies of a topic the brokers keep, and how many must have a write before it is acknowledged. */
export type TopicReplication = Partial<Pick<KafkaConfig, 'replicationFactor' | 'minInsyncReplicas'>>;

/**
 * Creates the topics that do not exist yet (idempotent), with `replication` (config.kafka) where it is set and
 * the brokers' defaults where it is not (kafkajs sends replication factor -1: the broker's
 * default.replication.factor).
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  numPartitions: number,
  replication: TopicReplication = {},
): Promise<void> {
  const { replicationFactor, minInsyncReplicas } = replication;
  const configEntries =
    minInsyncReplicas === undefined
      ? []
      : [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((topic) => ({
          topic,
          numPartitions,
          ...(replicationFactor === undefined ? {} : { replicationFactor }),
          configEntries,
        })),
        waitForLeaders: false,
      });
      await retry(() => leadersElected(admin, missing), {
        initialDelayMs: 100,
        maxDelayMs: 1_000,
        attempts: 30,
        isRetriable: isRetriableKafkaError,
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once every partition of `topics` has a leader. The brokers of a cluster learn of a new topic from the
 * controller a moment apart: the one asked may not know it yet (UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's own
 * waitForLeaders does not retry), or know it without a leader yet (LEADER_NOT_AVAILABLE): both are retried.
 */
async function leadersElected(admin: Admin, topics: string[]): Promise<void> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  const leaderless = metadata.filter(({ partitions }) => partitions.some(({ leader }) => leader < 0));
  if (leaderless.length > 0 || metadata.length < topics.length) {
    throw Object.assign(new Error(`topics without a leader yet: ${topics.join(', ')}`), { retriable: true });
  }
}

/**
 * The retry setting of every producer of fink: kafkajs must not retry a send itself. kafkajs retries a produce
 * per leader broker and skips, on its next attempt, every broker that answered the first one; when a broker dies
 * and its partitions move to brokers that already answered, the messages for those partitions are never sent
 * and send() resolves as if they were (tulios/kafkajs#1303; seen in test/cluster: 59 of 611 alerts gone with one
 * of three brokers killed). A single broker cannot lose a subset that way. So a failed send fails whole, and the
 * caller's retry (retryKafka, sendInChunks) sends the whole request again: messages already acknowledged are then
 * written twice, which the idempotent writes downstream absorb (a ReplacingMergeTree row per alert).
 */
export const PRODUCER_RETRY = { retries: 0 } as const;

/**
 * Retry options for one send outside the pipeline (the API's events and follow-ups): a few attempts over about
 * ten seconds, enough for a partition's leader to move, then the error reaches the caller.
 */
export const SEND_RETRY: RetryOptions = {
  initialDelayMs: 300,
  maxDelayMs: 3_000,
  attempts: 6,
  isRetriable: isRetriableKafkaError,
};

/**
 * Sends messages in requests of at most `maxBytes` (key + value), concurrently. A broker refuses a record batch
 * above its message.max.bytes (1 MB by default on clusters we do not run), and alerts are 60-120 KB each.
 * With `retryOptions` (retryKafka), each request is retried on its own: a request that failed during an outage
 * is sent again, the ones already acknowledged are not (no duplicates of those).
 */
export async function sendInChunks(
  producer: Producer,
  topic: string,
  messages: readonly Message[],
  maxBytes: number,
  retryOptions?: RetryOptions,
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
  const send = async (part: Message[]): Promise<void> => {
    await producer.send({ topic, messages: part, acks: -1 });
  };
  await Promise.all(
    chunks.map((part) => (retryOptions === undefined ? send(part) : retry(() => send(part), retryOptions))),
  );
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
