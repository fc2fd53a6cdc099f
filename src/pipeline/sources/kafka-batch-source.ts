// Consumes Kafka topics in batches and commits offsets only after the batch handler finished its writes.
//
// Messages are gathered across fetches until the batch is full or old enough (about one write per second per
// table), then handed to the handler; the offsets of a batch are committed only when the handler resolved, so a
// crash at any point replays at most the batches not yet written (at-least-once; the writes are idempotent).
//
// The handler runs beside the consumer, never inside kafkajs's eachBatch: while it works (or waits out a
// ClickHouse or Kafka outage) the consumer keeps fetching into the next batch, heartbeating and taking part in
// rebalances, so a long batch never gets the member evicted. Once a batch is in hand and the next one is
// gathered, the partitions are paused: nothing more is fetched until the handler catches up.
//
// A broker outage crashes the consumer; consumer-sessions.ts replaces it with a new one, which resumes from the
// group's committed offsets. What was gathered but not handed over is dropped then (it will be fetched again);
// what was handed over is remembered per partition, so that messages re-fetched behind a batch that was written
// (or is being written) are skipped rather than handled twice, and the offsets of batches written while the
// broker was away are committed once it is back.
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import { runConsumerSessions } from './consumer-sessions.ts';

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
  /** Called each time the consumer joined its group (the first time: the service is ready). */
  onReady?: () => void;
}

/** Bytes a fetch may return (and half of it per partition); a batch is gathered over many fetches. */
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

/** Heartbeats go out this often (kafkajs sends them between fetches; the handler never blocks those). */
const HEARTBEAT_INTERVAL_MS = 3_000;
/** How often a batch is checked for its age. */
const TICK_MS = 200;
/** A refused commit (the coordinator moving, loading after a restart) is tried again this long after. */
const RECOMMIT_MS = 5_000;
/**
 * On SIGTERM, how long the batch in hand may take to be written and committed. Past it (a server still away) the
 * service leaves without it, uncommitted: it is read again, and `fink stop` (services.stopTimeoutMs) needs no
 * SIGKILL.
 */
const STOP_WAIT_MS = 10_000;

export async function runKafkaBatchSource(options: KafkaBatchSourceOptions): Promise<void> {
  const { kafka, groupId, topics, logger, signal } = options;
  let failure: unknown;
  let failed: () => void = () => {};
  const failedOnce = new Promise<void>((resolve) => (failed = resolve));
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const batcher = new Batcher(options, (error) => {
    failure ??= error;
    failed();
  });
  // The event loop must turn at least every few seconds for heartbeats to go out: a handler that computes for
  // longer than the session timeout without yielding gets the member evicted. Say so when it comes close.
  let lastTick = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const blockedMs = now - lastTick - TICK_MS;
    lastTick = now;
    if (blockedMs > options.sessionTimeoutMs / 3) {
      logger.warn(
        { blockedMs: Math.round(blockedMs), sessionTimeoutMs: options.sessionTimeoutMs },
        'event loop blocked: heartbeats were late; lower pipeline.batchMaxMessages',
      );
    }
    void batcher.flushIfDue();
    batcher.recommitIfBehind();
  }, TICK_MS);

  try {
    await runConsumerSessions({
      kafka,
      consumer: {
        groupId,
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
        // Every member must rejoin within this when the group rebalances; eachBatch returns at once here, so
        // kafkajs's default (60 s) is never at risk from a long batch.
        rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs),
        // kafkajs gathers a fetch response into one buffer: at 64 MB each is a fresh mapping to fault in; at 8 MB
        // the allocator reuses freed memory (page faults per alert 23 -> 14 in raw2science, 20 -> 13 in
        // stream2raw, their system CPU -20%; BENCHMARKS.md).
        maxBytes: FETCH_MAX_BYTES,
        maxBytesPerPartition: FETCH_MAX_BYTES / 2,
        // Also how long a paused consumer sleeps between fetches (kafkajs): resuming costs at most this.
        maxWaitTimeInMs: 1_000,
      },
      topics,
      fromBeginning: options.fromBeginning,
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => Promise.resolve(batcher.take(payload)),
      },
      logger,
      until: Promise.race([stopped, failedOnce]),
      onConsumer: (consumer) => {
        batcher.attach(consumer);
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          logger.info({ groupId, assignment: payload.memberAssignment }, 'joined consumer group');
          batcher.joined(consumer, payload.memberAssignment);
          options.onReady?.();
        });
      },
      onRestart: () => batcher.detach(),
      // SIGTERM: write and commit what was gathered, then leave. After a failure, commit nothing more.
      beforeDisconnect: async () => {
        if (failure === undefined) await atMost(batcher.flush(), STOP_WAIT_MS, logger);
      },
    });
  } finally {
    clearInterval(timer);
    batcher.detach();
    // The batch in hand, if any (during an outage it stops retrying at the abort), within the stop's budget.
    await atMost(batcher.idle(), STOP_WAIT_MS, logger);
  }
  if (failure !== undefined) {
    throw failure instanceof Error ? failure : new Error('consumer failed', { cause: failure });
  }
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Offset after the last message handed to the handler: messages below it are not handed again. */
  handed: bigint;
  /** Offset after the last message of a batch the handler completed: what may be committed. */
  completed: bigint;
  /** What the group holds as committed, as far as this process knows (its confirmed commits, fetch starts). */
  committed: bigint;
}

/** Gathers messages across fetches and hands them over in order, one batch at a time. */
class Batcher {
  private consumer: Consumer | undefined;
  /** The current consumer's assignment, for pause and resume. */
  private assignment: { topic: string }[] = [];
  /** Bumped whenever the consumer (re)joins or is replaced: a fetch of an older generation adds nothing. */
  private generation = 0;
  private pending: SourceMessage[] = [];
  private firstPendingAt = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Batches handed over and not finished (the one being handled and the one waiting behind it). */
  private queued = 0;
  private paused = false;
  private failed = false;
  private lastRecommit = 0;
  private readonly partitions = new Map<string, PartitionState>();
  /** Partitions the current member has received messages of since it joined: the only ones it commits. */
  private readonly owned = new Set<string>();

  constructor(
    private readonly options: KafkaBatchSourceOptions,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** A new consumer: its confirmed commits update what the group is known to hold. */
  attach(consumer: Consumer): void {
    this.reset();
    this.consumer = consumer;
    consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const { topic, partitions } of payload.topics) {
        for (const { partition, offset } of partitions) {
          const state = this.partitions.get(partitionKey(topic, partition));
          if (state !== undefined) state.committed = max(state.committed, BigInt(String(offset)));
        }
      }
    });
  }

  /** The consumer is gone (crashed, or the source ends): what was gathered will be fetched again. */
  detach(): void {
    this.reset();
    this.consumer = undefined;
  }

  /**
   * Joined (also after a rebalance): fetching restarts from the committed offsets, so whatever was gathered and
   * not handed over comes again; the partitions to pause are the new assignment.
   */
  joined(consumer: Consumer, assignment: Record<string, number[]>): void {
    if (consumer !== this.consumer) return;
    this.reset();
    this.assignment = Object.keys(assignment).map((topic) => ({ topic }));
    // kafkajs keeps a pause across a rebalance: set it again from what is in hand.
    this.paused = this.queued < 2;
    if (this.queued >= 2) this.pause();
    else this.resume();
  }

  private reset(): void {
    this.generation++;
    this.pending = [];
    this.owned.clear();
    this.paused = false;
  }

  /** eachBatch: gathers and returns at once; never throws (kafkajs would re-fetch and retry on its own). */
  take(payload: EachBatchPayload): void {
    const { batch } = payload;
    const generation = this.generation;
    const key = partitionKey(batch.topic, batch.partition);
    const first = batch.messages[0];
    if (first === undefined) return;
    let state = this.partitions.get(key);
    if (state === undefined) {
      state = { topic: batch.topic, partition: batch.partition, handed: -1n, completed: -1n, committed: -1n };
      this.partitions.set(key, state);
    }
    if (!this.owned.has(key)) {
      // The first fetch after joining starts at the group's committed offset.
      this.owned.add(key);
      state.committed = max(state.committed, BigInt(first.offset));
    }
    const receivedAt = Date.now();
    let skipped = 0;
    for (const message of batch.messages) {
      if (this.failed || generation !== this.generation || !payload.isRunning() || payload.isStale()) return;
      // Moves the fetch position only; the committed offset waits for the write.
      payload.resolveOffset(message.offset);
      if (BigInt(message.offset) < state.handed) {
        skipped++;
        continue;
      }
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
      if (this.pending.length >= this.options.maxBatchMessages) void this.flush();
    }
    if (skipped > 0) {
      this.options.logger.info(
        { topic: batch.topic, partition: batch.partition, skipped },
        'skipped messages fetched again behind a batch already handed over',
      );
      // Their batch may be written already, its commit refused while the broker was away: commit it now.
      this.queue = this.queue.then(() => this.commit());
    }
    void this.flushIfDue();
  }

  flushIfDue(): Promise<void> {
    const due =
      this.pending.length > 0 &&
      (this.pending.length >= this.options.maxBatchMessages ||
        Date.now() - this.firstPendingAt >= this.options.maxBatchAgeMs);
    return due ? this.flush() : this.queue;
  }

  /** Hands the pending messages to the handler, then commits their offsets. Serialised; never rejects. */
  flush(): Promise<void> {
    const messages = this.pending;
    this.pending = [];
    if (messages.length === 0 || this.failed) return this.queue;
    const batchStates = new Set<PartitionState>();
    const ends = new Map<PartitionState, bigint>();
    for (const message of messages) {
      const state = this.partitions.get(partitionKey(message.topic, message.partition));
      if (state === undefined) continue;
      const next = BigInt(message.offset) + 1n;
      state.handed = max(state.handed, next);
      ends.set(state, max(ends.get(state) ?? -1n, next));
      batchStates.add(state);
    }
    this.queued++;
    if (this.queued >= 2) this.pause();
    this.queue = this.queue.then(async () => {
      try {
        if (this.failed) return;
        await this.options.handler(messages);
        for (const [state, end] of ends) state.completed = max(state.completed, end);
        await this.commit();
      } catch (error) {
        this.failed = true;
        if (this.options.signal.aborted) {
          this.options.logger.warn(
            { err: error, messages: messages.length },
            'stopped during a batch; not committed, it will be read again',
          );
        } else {
          this.options.logger.error({ err: error }, 'batch failed; stopping without committing it');
          this.onFailure(error);
        }
      } finally {
        this.queued--;
        if (this.queued < 2) this.resume();
      }
    });
    return this.queue;
  }

  /**
   * Commits again what was written but not committed, when no batch is in hand: a commit refused after the last
   * batch of a quiet stream would otherwise wait for the next message.
   */
  recommitIfBehind(): void {
    const now = Date.now();
    if (this.queued > 0 || now - this.lastRecommit < RECOMMIT_MS) return;
    this.lastRecommit = now;
    const behind = [...this.partitions].some(
      ([key, state]) => this.owned.has(key) && state.completed > state.committed,
    );
    if (behind) this.queue = this.queue.then(() => this.commit());
  }

  /** Resolves once every batch handed over has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Commits the completed offsets the group does not hold yet, of the partitions this member owns now. */
  private async commit(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    const offsets = [...this.partitions]
      .filter(([key, state]) => this.owned.has(key) && state.completed > state.committed)
      .map(([, { topic, partition, completed }]) => ({ topic, partition, offset: completed.toString() }));
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
    } catch (err) {
      // After a rebalance the partition may belong to another member, which replays from the last commit;
      // the writes are idempotent, so this costs duplicated work, never alerts. Over a broker outage the new
      // consumer commits these offsets when it fetches the partition again.
      this.options.logger.warn(
        { err },
        'offset commit refused; committed later or replayed by the new owner',
      );
    }
  }

  private pause(): void {
    if (this.paused || this.consumer === undefined || this.assignment.length === 0) return;
    this.paused = true;
    this.pauseOrResume(this.consumer, 'pause');
  }

  private resume(): void {
    if (!this.paused || this.consumer === undefined) return;
    this.paused = false;
    this.pauseOrResume(this.consumer, 'resume');
  }

  private pauseOrResume(consumer: Consumer, action: 'pause' | 'resume'): void {
    try {
      consumer[action](this.assignment);
    } catch (err) {
      // The consumer is stopping (a crash being handled): its successor starts unpaused, from the commits.
      this.options.logger.debug({ err, action }, 'consumer not running; pause state not changed');
    }
  }
}

/** Waits for `work` at most `ms`; says so when it gave up (the work goes on, unawaited). */
async function atMost(work: Promise<void>, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  const result = await Promise.race([work.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    logger.warn({ waitedMs: ms }, 'stopping without the batch in hand; not committed, it will be read again');
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Kafka headers as text (kafkajs gives Buffers; the last value of a repeated header). */
export function headerText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) text[name] = last.toString();
  }
  return text;
}
