// Consumes Kafka topics in batches and commits offsets only after the batch handler finished its writes.
//
// Messages are gathered across fetches until the batch is full or old enough (about one write per second per
// table), then handed to the handler; the offsets of a batch are committed only when the handler resolved, so a
// crash at any point replays at most the batches not yet written (at-least-once; the writes are idempotent).
// While the handler retries (ClickHouse down), nothing more is fetched: eachBatch does not return.
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from '../../logger.ts';

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Message headers as text (the last value of a repeated header). */
  headers: Record<string, string>;
  /** Broker timestamp (ms since epoch). */
  timestamp: number;
  /** When this process received it (ms since epoch): the start of receipt-to-stored latency. */
  receivedAt: number;
}

export type BatchHandler = (messages: SourceMessage[]) => Promise<void>;

export interface KafkaBatchSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: (string | RegExp)[];
  /** Where a new consumer group starts. */
  fromBeginning: boolean;
  maxBatchMessages: number;
  maxBatchAgeMs: number;
  /** How long the group waits for a silent member before giving its partitions to others. */
  sessionTimeoutMs: number;
  handler: BatchHandler;
  logger: Logger;
  signal: AbortSignal;
  /** Called once the consumer joined its group (the service is ready). */
  onReady?: () => void;
}

export async function runKafkaBatchSource(options: KafkaBatchSourceOptions): Promise<void> {
  const { kafka, groupId, topics, logger, signal } = options;
  const consumer = kafka.consumer({
    groupId,
    // Heartbeats go out every 3 s while a batch is written (and retried), so a long ClickHouse outage does not
    // evict the member; the session timeout only bounds how long a crashed member holds its partitions.
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: 3_000,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
  });
  let failure: unknown;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const batcher = new Batcher(consumer, options, (error) => {
    failure ??= error;
    stop();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failure ??= payload.error;
    stop();
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    logger.info({ groupId, assignment: payload.memberAssignment }, 'joined consumer group');
    options.onReady?.();
  });

  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => batcher.take(payload),
    });
    const timer = setInterval(() => void batcher.flushIfDue(), 200);
    await stopped;
    clearInterval(timer);
    // SIGTERM: write and commit what was gathered, then leave. After a failure, commit nothing more.
    if (failure === undefined) await batcher.flush();
  } finally {
    await consumer.disconnect();
  }
  if (failure !== undefined) {
    throw failure instanceof Error ? failure : new Error('consumer failed', { cause: failure });
  }
}

/** Gathers messages across fetches and flushes them in order, one flush at a time. */
class Batcher {
  private pending: SourceMessage[] = [];
  private firstPendingAt = 0;
  private queue: Promise<void> = Promise.resolve();
  private failed = false;
  /** The latest fetch's heartbeat: flushes started by the timer use it too. */
  private heartbeat: (() => Promise<void>) | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: KafkaBatchSourceOptions,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** eachBatch: never throws (kafkajs would re-fetch and retry on its own); a failure stops the source. */
  async take(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    this.heartbeat = heartbeat;
    const receivedAt = Date.now();
    for (const message of batch.messages) {
      if (this.failed || !payload.isRunning() || payload.isStale()) return;
      if (this.pending.length === 0) this.firstPendingAt = receivedAt;
      this.pending.push({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: headerText(message.headers),
        timestamp: Number(message.timestamp),
        receivedAt,
      });
      // Moves the fetch position only; the committed offset waits for the write.
      payload.resolveOffset(message.offset);
      if (this.pending.length >= this.options.maxBatchMessages) await this.flush(heartbeat);
    }
    await this.flushIfDue(heartbeat);
  }

  flushIfDue(heartbeat = this.heartbeat): Promise<void> {
    const due =
      this.pending.length > 0 &&
      (this.pending.length >= this.options.maxBatchMessages ||
        Date.now() - this.firstPendingAt >= this.options.maxBatchAgeMs);
    return due ? this.flush(heartbeat) : this.queue;
  }

  /** Hands the pending messages to the handler, then commits their offsets. Serialised; never rejects. */
  flush(heartbeat = this.heartbeat): Promise<void> {
    const messages = this.pending;
    this.pending = [];
    if (messages.length === 0) return this.queue;
    this.queue = this.queue.then(async () => {
      if (this.failed) return;
      const keepAlive =
        heartbeat === undefined ? undefined : setInterval(() => void heartbeat().catch(() => {}), 3_000);
      try {
        await this.options.handler(messages);
        await this.commit(messages);
      } catch (error) {
        this.failed = true;
        this.options.logger.error({ err: error }, 'batch failed; stopping without committing it');
        this.onFailure(error);
      } finally {
        clearInterval(keepAlive);
      }
    });
    return this.queue;
  }

  private async commit(messages: SourceMessage[]): Promise<void> {
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const { topic, partition, offset } of messages) {
      next.set(`${topic}\0${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    }
    try {
      await this.consumer.commitOffsets([...next.values()]);
    } catch (err) {
      // After a rebalance the partition may belong to another member, which replays from the last commit;
      // the writes are idempotent, so this costs duplicates work, never alerts.
      this.options.logger.warn({ err }, 'offset commit refused; the new owner of the partition will replay');
    }
  }
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) text[name] = last.toString();
  }
  return text;
}
