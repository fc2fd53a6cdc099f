// The batch source's bookkeeping across consumer restarts and backpressure, on a scripted stand-in for kafkajs:
// what a restarted consumer fetches again is not handled twice, what was gathered but not handed over is, the
// offsets written while the broker was away are committed by the next consumer, and fetching pauses while two
// batches are in hand.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { KafkaJSConnectionError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { runKafkaBatchSource, type SourceMessage } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { waitFor } from '../helpers/wait.ts';

const logger = createLogger({ level: 'silent' });
const TOPIC = 't';

type Listener = (event: { payload: unknown }) => void;

/** One kafkajs consumer session over a one-partition topic whose committed offset the "broker" keeps. */
class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join', COMMIT_OFFSETS: 'commit' } as const;
  private readonly listeners = new Map<string, Listener[]>();
  private eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  running = false;
  paused = false;
  pauses = 0;

  constructor(private readonly broker: FakeBroker) {}

  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  private emit(event: string, payload: unknown) {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }
  connect() {
    return Promise.resolve();
  }
  subscribe() {
    return Promise.resolve();
  }
  run({ eachBatch }: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) {
    this.eachBatch = eachBatch;
    this.running = true;
    this.emit('join', { memberAssignment: { [TOPIC]: [0] } });
    return Promise.resolve();
  }
  disconnect() {
    this.running = false;
    return Promise.resolve();
  }
  pause() {
    this.paused = true;
    this.pauses++;
  }
  resume() {
    this.paused = false;
  }
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    if (!this.running) return Promise.resolve();
    for (const { offset } of offsets) this.broker.committed = Number(offset);
    this.broker.commits.push(...offsets.map((o) => Number(o.offset)));
    this.emit('commit', {
      topics: [{ topic: TOPIC, partitions: offsets.map(({ partition, offset }) => ({ partition, offset })) }],
    });
    return Promise.resolve();
  }
  /** A fetch: the messages at offsets [from, to). */
  async deliver(from: number, to: number) {
    const messages = Array.from({ length: to - from }, (_, i) => ({
      offset: String(from + i),
      key: null,
      value: Buffer.from(`m${from + i}`),
      headers: {},
      timestamp: '0',
    }));
    await this.eachBatch!({
      batch: { topic: TOPIC, partition: 0, messages },
      resolveOffset: () => {},
      heartbeat: () => Promise.resolve(),
      isRunning: () => this.running,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
  crash(error: Error) {
    this.running = false;
    this.emit('crash', { error, restart: false });
  }
}

class FakeBroker {
  committed = -1;
  commits: number[] = [];
  consumers: FakeConsumer[] = [];
  readonly kafka = {
    consumer: () => {
      const consumer = new FakeConsumer(this);
      this.consumers.push(consumer);
      return consumer as unknown as Consumer;
    },
  } as unknown as Kafka;
  /** Where a new consumer starts: the committed offset (or the beginning). */
  get start(): number {
    return Math.max(0, this.committed);
  }
}

/** A handler that records each batch's offsets and waits for `release()` when told to hold. */
function controlledHandler() {
  const batches: number[][] = [];
  let hold = false;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  return {
    batches,
    holdNext() {
      hold = true;
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => {
      hold = false;
      release();
    },
    handler: async (messages: SourceMessage[]) => {
      batches.push(messages.map((m) => Number(m.offset)));
      if (hold) await gate;
    },
  };
}

function start(broker: FakeBroker, handler: (m: SourceMessage[]) => Promise<void>, maxBatchAgeMs = 60_000) {
  const controller = new AbortController();
  const done = runKafkaBatchSource({
    kafka: broker.kafka,
    groupId: 'g',
    topics: [TOPIC],
    fromBeginning: true,
    maxBatchMessages: 10,
    maxBatchAgeMs,
    sessionTimeoutMs: 30_000,
    handler,
    logger,
    signal: controller.signal,
  });
  return { stop: () => controller.abort(), done };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('runKafkaBatchSource across a broker outage', () => {
  it('handles nothing twice and commits, through the next consumer, what was written while the broker was away', async () => {
    const broker = new FakeBroker();
    const handler = controlledHandler();
    const source = start(broker, handler.handler);
    await waitFor(() => broker.consumers.length === 1 && broker.consumers[0]!.running, 5_000, 5);
    const first = broker.consumers[0]!;

    // A full batch goes to the handler, which is still writing when the broker goes away.
    handler.holdNext();
    await first.deliver(0, 10);
    await first.deliver(10, 13); // gathered, not handed over: dropped with the consumer
    first.crash(new KafkaJSConnectionError('Connection error: ECONNREFUSED'));
    await waitFor(() => broker.consumers.length === 2 && broker.consumers[1]!.running, 5_000, 5);
    const second = broker.consumers[1]!;
    // The new consumer starts at the committed offset: everything comes again.
    expect(broker.start).toBe(0);
    await second.deliver(broker.start, 15);
    handler.release();
    // The held batch completes; its offsets go out through the new consumer.
    await waitFor(() => broker.committed === 10, 5_000, 5);
    source.stop();
    await source.done;

    expect(handler.batches).toEqual([range(0, 10), range(10, 15)]);
    expect(broker.committed).toBe(15);
  });

  it('hands over, on SIGTERM, what was gathered and commits it before leaving', async () => {
    const broker = new FakeBroker();
    const handler = controlledHandler();
    const source = start(broker, handler.handler);
    await waitFor(() => broker.consumers[0]?.running === true, 5_000, 5);
    await broker.consumers[0]!.deliver(0, 4);
    expect(handler.batches).toEqual([]);
    source.stop();
    await source.done;
    expect(handler.batches).toEqual([range(0, 4)]);
    expect(broker.commits).toEqual([4]);
    expect(broker.consumers[0]!.running).toBe(false);
  });

  it('pauses fetching while a batch is handled and the next one is waiting, and resumes after', async () => {
    const broker = new FakeBroker();
    const handler = controlledHandler();
    const source = start(broker, handler.handler);
    await waitFor(() => broker.consumers[0]?.running === true, 5_000, 5);
    const consumer = broker.consumers[0]!;
    handler.holdNext();
    await consumer.deliver(0, 10);
    expect(consumer.paused).toBe(false);
    await consumer.deliver(10, 20);
    expect(consumer.paused).toBe(true);
    handler.release();
    await waitFor(() => broker.committed === 20, 5_000, 5);
    expect(consumer.paused).toBe(false);
    expect(consumer.pauses).toBe(1);
    source.stop();
    await source.done;
    expect(handler.batches).toEqual([range(0, 10), range(10, 20)]);
  });

  it('stops with the error of a batch that failed, committing nothing of it', async () => {
    const broker = new FakeBroker();
    const bug = new TypeError('a bug');
    const source = start(broker, () => Promise.reject(bug));
    await waitFor(() => broker.consumers[0]?.running === true, 5_000, 5);
    await broker.consumers[0]!.deliver(0, 10);
    await expect(source.done).rejects.toBe(bug);
    expect(broker.commits).toEqual([]);
  });
});
