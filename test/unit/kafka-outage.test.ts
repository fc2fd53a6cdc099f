// What a service does when Kafka goes away: which errors are an outage to wait out, and the consumer loop that
// replaces a crashed consumer with a new one (connect failures included) until the service stops.
import type { Consumer, Kafka } from 'kafkajs';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { retry } from '../../src/pipeline/framework.ts';
import { isRetriableKafkaError, retryKafka } from '../../src/pipeline/kafka.ts';
import { runConsumerSessions } from '../../src/pipeline/sources/consumer-sessions.ts';
import { StorageError } from '../../src/storage/clickhouse.ts';

const logger = createLogger({ level: 'silent' });

const protocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as never);
/** kafkajs's typings omit the message argument these errors take. */
const withMessage = (type: new () => Error, message: string): Error =>
  new (type as unknown as new (message: string) => Error)(message);
const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092');

describe('isRetriableKafkaError', () => {
  it.each([
    ['a refused connection', refused, true],
    [
      'no broker available',
      Object.assign(new KafkaJSError('No broker available'), { name: 'KafkaJSNoBrokerAvailableError' }),
      true,
    ],
    [
      'kafkajs giving up its retries of a refused connection',
      new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1000 }),
      true,
    ],
    [
      'a group coordinator not found (non-retriable to kafkajs)',
      withMessage(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'),
      true,
    ],
    ['a member the new coordinator does not know', protocolError('UNKNOWN_MEMBER_ID', false), true],
    ['a leader moving', protocolError('NOT_LEADER_FOR_PARTITION', true), true],
    [
      'ClickHouse unreachable (retried by the same loops)',
      new StorageError('connect ECONNREFUSED', 'unavailable'),
      true,
    ],
    [
      'kafkajs giving up its retries of a refusal',
      new KafkaJSNumberOfRetriesExceeded(protocolError('TOPIC_AUTHORIZATION_FAILED', false), {
        retryCount: 0,
        retryTime: 0,
      }),
      false,
    ],
    ['a message too large', protocolError('MESSAGE_TOO_LARGE', false), false],
    [
      'a failed authentication',
      withMessage(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed'),
      false,
    ],
    [
      'a misconfiguration',
      new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.'),
      false,
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'offset')"), false],
    ['not an error', 'oops', false],
  ])('%s: %s', (_what, error, expected) => {
    expect(isRetriableKafkaError(error)).toBe(expected);
  });
});

describe('retryKafka', () => {
  it('retries an outage until it ends and stops at the signal', async () => {
    let attempts = 0;
    const ok = await retry(() => (++attempts < 4 ? Promise.reject(refused) : Promise.resolve('sent')), {
      ...retryKafka(),
      initialDelayMs: 1,
      maxDelayMs: 1,
    });
    expect([ok, attempts]).toEqual(['sent', 4]);

    const controller = new AbortController();
    let tries = 0;
    const stopped = retry(
      () => {
        if (++tries === 3) controller.abort();
        return Promise.reject(refused);
      },
      { ...retryKafka({ signal: controller.signal }), initialDelayMs: 1, maxDelayMs: 1 },
    );
    await expect(stopped).rejects.toBe(refused);
    expect(tries).toBe(3);
  });
});

type Listener = (event: { payload: Record<string, unknown> }) => void;

/** A kafkajs consumer as the loop sees it: scripted to fail connecting, join, or crash. */
class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join' } as const;
  private readonly listeners = new Map<string, Listener[]>();
  disconnected = false;
  running = false;
  constructor(
    readonly config: { retry?: { restartOnFailure?: (e: Error) => Promise<boolean> } },
    private readonly script: { connect?: Error; crash?: Error },
  ) {}
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  emit(event: string, payload: Record<string, unknown>) {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }
  connect() {
    return this.script.connect === undefined ? Promise.resolve() : Promise.reject(this.script.connect);
  }
  subscribe() {
    return Promise.resolve();
  }
  run() {
    this.running = true;
    this.emit('join', { memberAssignment: {} });
    if (this.script.crash !== undefined) {
      const error = this.script.crash;
      setTimeout(() => this.emit('crash', { error, restart: false }), 5);
    }
    return Promise.resolve();
  }
  disconnect() {
    this.disconnected = true;
    this.running = false;
    return Promise.resolve();
  }
}

function fakeKafka(scripts: { connect?: Error; crash?: Error }[]) {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: (config: FakeConsumer['config']) => {
      const consumer = new FakeConsumer(config, scripts[consumers.length] ?? {});
      consumers.push(consumer);
      return consumer as unknown as Consumer;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

describe('runConsumerSessions', () => {
  it('replaces a consumer that cannot connect or crashes with an outage error, until told to stop', async () => {
    const { kafka, consumers } = fakeKafka([
      { connect: refused },
      { crash: protocolError('UNKNOWN_MEMBER_ID', false) },
      {},
    ]);
    let stop: () => void = () => {};
    const until = new Promise<void>((resolve) => (stop = resolve));
    const restarts: unknown[] = [];
    const flushedWith: Consumer[] = [];
    const running = runConsumerSessions({
      kafka,
      consumer: { groupId: 'g' },
      topics: ['t'],
      fromBeginning: true,
      run: {},
      logger,
      until,
      onConsumer: (consumer) =>
        consumer.on(consumer.events.GROUP_JOIN, () => {
          if (consumers.length === 3) stop();
        }),
      onRestart: (error) => restarts.push(error),
      beforeDisconnect: (consumer) => {
        flushedWith.push(consumer);
        return Promise.resolve();
      },
      maxBackoffMs: 5,
    });
    await running;
    expect(consumers).toHaveLength(3);
    expect(restarts).toEqual([refused, expect.objectContaining({ type: 'UNKNOWN_MEMBER_ID' })]);
    // The loop owns restarts: kafkajs is told never to restart a consumer itself.
    for (const consumer of consumers) {
      expect(await consumer.config.retry?.restartOnFailure?.(refused)).toBe(false);
      expect(consumer.disconnected).toBe(true);
    }
    expect(flushedWith).toEqual([consumers[2]]);
  });

  it('ends with the error when the crash is no outage', async () => {
    const refusal = protocolError('TOPIC_AUTHORIZATION_FAILED', false);
    const { kafka, consumers } = fakeKafka([{ crash: refusal }]);
    const sessions = runConsumerSessions({
      kafka,
      consumer: { groupId: 'g' },
      topics: ['t'],
      fromBeginning: true,
      run: {},
      logger,
      until: new Promise(() => {}),
      maxBackoffMs: 5,
    });
    await expect(sessions).rejects.toBe(refusal);
    expect(consumers).toHaveLength(1);
    expect(consumers[0]!.disconnected).toBe(true);
  });

  it('stops while waiting for the brokers, without starting another consumer', async () => {
    const { kafka, consumers } = fakeKafka(Array.from({ length: 1000 }, () => ({ connect: refused })));
    let stop: () => void = () => {};
    const until = new Promise<void>((resolve) => (stop = resolve));
    const sessions = runConsumerSessions({
      kafka,
      consumer: { groupId: 'g' },
      topics: ['t'],
      fromBeginning: true,
      run: {},
      logger,
      until,
      onRestart: () => {
        if (consumers.length === 3) stop();
      },
      maxBackoffMs: 60_000,
    });
    await sessions;
    expect(consumers).toHaveLength(3);
    expect(consumers.every((consumer) => consumer.disconnected && !consumer.running)).toBe(true);
  });
});
