// A Kafka consumer that outlives broker outages: one kafkajs consumer after another, each a "session", until the
// service stops.
//
// kafkajs restarts a crashed consumer by itself only for the errors it deems retriable, and several that a broker
// restart produces are not (a group coordinator not found after its retries, a member the new coordinator does not
// know, a lock timeout): the service would then stop for good. So kafkajs's own restart is off here; on a crash
// with an outage symptom (isRetriableKafkaError) this loop waits (doubling, up to a few seconds) and starts a new
// consumer in the same group, which resumes from the group's committed offsets. Connecting is part of a session:
// a service started while Kafka is down waits for it. Any other error (refused by the broker, a bug) ends the
// loop with that error.
import type { Consumer, ConsumerConfig, ConsumerRunConfig, Kafka } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import { isRetriableKafkaError } from '../kafka.ts';

export interface ConsumerSessionsOptions {
  kafka: Kafka;
  /** The consumer's settings (group, session timeout, fetch sizes); restartOnFailure is always off. */
  consumer: ConsumerConfig;
  topics: (string | RegExp)[];
  fromBeginning: boolean;
  run: ConsumerRunConfig;
  logger: Logger;
  /** Resolves when the consumer must stop for good (the service stops, or its handler failed). */
  until: Promise<void>;
  /** A new consumer, before it connects: attach event listeners here. */
  onConsumer?: (consumer: Consumer) => void;
  /** The current consumer crashed with an outage symptom and is being replaced. */
  onRestart?: (error: unknown) => void;
  /** Once `until` resolved, with the current consumer still connected, before it leaves its group. */
  beforeDisconnect?: (consumer: Consumer) => Promise<void>;
  /** Longest wait between two sessions (the first waits 500 ms, then doubling). */
  maxBackoffMs?: number;
}

/** Leaving a group needs its coordinator: during an outage give up after this long (the session expires). */
const DISCONNECT_TIMEOUT_MS = 5_000;
const FIRST_BACKOFF_MS = 500;

type SessionEnd = { kind: 'stop' } | { kind: 'crash'; error: unknown };

/** Runs consumer sessions until `until` resolves; rejects with the first error that is not an outage symptom. */
export async function runConsumerSessions(options: ConsumerSessionsOptions): Promise<void> {
  const { kafka, logger, maxBackoffMs = 5_000 } = options;
  const stop = options.until.then((): SessionEnd => ({ kind: 'stop' }));
  let failures = 0;
  for (let session = 1; ; session++) {
    const consumer = kafka.consumer({
      ...options.consumer,
      retry: { ...options.consumer.retry, restartOnFailure: () => Promise.resolve(false) },
    });
    let crashed: (end: SessionEnd) => void = () => {};
    const crash = new Promise<SessionEnd>((resolve) => (crashed = resolve));
    consumer.on(consumer.events.CRASH, ({ payload }) => crashed({ kind: 'crash', error: payload.error }));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      failures = 0;
    });
    options.onConsumer?.(consumer);

    // Checked between the steps of a start that `until` overtook: a consumer must not start running after it
    // was told to disconnect (it would never stop).
    let ended = false;
    const start = async (): Promise<SessionEnd> => {
      await consumer.connect();
      if (ended) return stop;
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning });
      if (ended) return stop;
      await consumer.run(options.run);
      return crash;
    };
    const end = await Promise.race([
      start().catch((error: unknown): SessionEnd => ({ kind: 'crash', error })),
      crash,
      stop,
    ]);
    ended = true;

    if (end.kind === 'stop') {
      await options.beforeDisconnect?.(consumer);
      await disconnect(consumer, logger);
      return;
    }
    await disconnect(consumer, logger);
    if (!isRetriableKafkaError(end.error)) throw end.error;
    failures++;
    const delayMs = Math.min(maxBackoffMs, FIRST_BACKOFF_MS * 2 ** (failures - 1));
    logger.warn(
      { err: end.error, session, failures, delayMs },
      'Kafka consumer lost its broker; starting a new one',
    );
    options.onRestart?.(end.error);
    const waited = await Promise.race([
      new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), delayMs)),
      stop,
    ]);
    if (waited !== 'waited') return;
  }
}

/** Disconnects, at most DISCONNECT_TIMEOUT_MS: leaving the group cannot succeed while the brokers are away. */
async function disconnect(consumer: Consumer, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), DISCONNECT_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([consumer.disconnect().then(() => 'done' as const), timeout]);
    if (result === 'timeout') {
      logger.warn({ timeoutMs: DISCONNECT_TIMEOUT_MS }, 'Kafka consumer did not leave its group in time');
    }
  } catch (err) {
    logger.warn({ err }, 'Kafka consumer did not disconnect cleanly');
  } finally {
    clearTimeout(timer);
  }
}
