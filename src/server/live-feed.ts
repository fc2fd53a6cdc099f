// The server's live inputs: every server instance consumes the science topic (each alert's one record, from
// raw2science) and the events topic (annotations, votes, watchlist hits, follow-up requests) with a consumer group
// of its own, starting at the end, so that any number of instances behind a load balancer each see every live
// event. Decoded once here, then fanned out to the subscriptions of this instance (src/util/broadcast.ts).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { IHeaders, Kafka, OffsetsByTopicPartition } from 'kafkajs';
import type { ServerEvent } from '../events.ts';
import type { Logger } from '../logger.ts';
import { decodeScienceRecord } from '../pipeline/encode/science-record.ts';
import { runConsumerSessions } from '../pipeline/sources/consumer-sessions.ts';
import { headerText } from '../pipeline/sources/kafka-batch-source.ts';
import type { LiveAlert, LiveSources } from '../resolvers/live-sources.ts';
import { Broadcaster, type DeliveryScheduler } from '../util/broadcast.ts';

export interface LiveFeedOptions {
  kafka: Kafka;
  scienceTopic: string;
  eventsTopic: string;
  groupPrefix: string;
  /** Who wakes the subscriptions (the server's fan-out budget); at once when absent. */
  scheduler?: DeliveryScheduler;
  logger: Logger;
}

export interface LiveFeed extends LiveSources {
  /** Resolves once the consumer has joined its group and will see what is published from now on. */
  ready: Promise<void>;
  stop(): Promise<void>;
  /** Science messages that could not be decoded (counted, skipped: the pipeline dead-letters at its end). */
  readonly undecodable: number;
}

/** The live alert of a science message. */
export function liveAlertOf(
  { value, headers, timestamp }: { value: Buffer; headers?: IHeaders | undefined; timestamp: string },
  receivedAt: number,
): LiveAlert {
  return {
    receivedAt,
    publishedAt: Number(timestamp),
    record: decodeScienceRecord(value, headerText(headers)),
  };
}

export function startLiveFeed(options: LiveFeedOptions): Promise<LiveFeed> {
  const { kafka, scienceTopic, eventsTopic, logger } = options;
  const alerts = new Broadcaster<LiveAlert>(options.scheduler);
  const events = new Broadcaster<ServerEvent>(options.scheduler);
  const groupId = `${options.groupPrefix}-server-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  let undecodable = 0;
  const delivered = new DeliveredOffsets();
  let lastCommitAt = 0;

  let joined: () => void = () => {};
  let refused: (error: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    joined = resolve;
    refused = reject;
  });
  let stopConsuming: () => void = () => {};
  const until = new Promise<void>((resolve) => (stopConsuming = resolve));
  // A broker outage replaces the consumer (same group: it resumes from its committed offsets, so the alerts
  // published meanwhile still reach the subscribers, late). Only an error that is no outage stops the feed.
  //
  // Offsets are committed every COMMIT_INTERVAL_MS, not after every fetched batch as kafkajs's autoCommit does
  // (one more request per fetch, awaited before the next batch: 7% of the server's CPU under live load). A
  // replaced consumer then fetches again up to that long of messages: `delivered` skips them, so no subscriber
  // gets an alert twice.
  const consuming = runConsumerSessions({
    kafka,
    consumer: { groupId, allowAutoTopicCreation: true },
    topics: [scienceTopic, eventsTopic],
    fromBeginning: false,
    run: {
      autoCommit: false,
      eachBatch: async ({ batch, ...control }) => {
        const receivedAt = Date.now();
        for (const message of batch.messages) {
          if (message.value === null) continue;
          if (!delivered.first(batch.topic, batch.partition, message.offset)) continue;
          try {
            if (batch.topic === scienceTopic) {
              alerts.publish(liveAlertOf({ ...message, value: message.value }, receivedAt));
            } else {
              events.publish(JSON.parse(message.value.toString('utf8')) as ServerEvent);
            }
          } catch (error) {
            undecodable++;
            logger.warn({ err: error, topic: batch.topic, offset: message.offset }, 'live message skipped');
          }
        }
        control.resolveOffset(batch.lastOffset());
        if (receivedAt - lastCommitAt >= COMMIT_INTERVAL_MS) {
          const offsets = control.uncommittedOffsets();
          await control.commitOffsetsIfNecessary(offsets);
          delivered.commit(offsets);
          lastCommitAt = receivedAt;
        }
        await control.heartbeat();
      },
    },
    logger,
    until,
    onConsumer: (consumer) => {
      // A new consumer commits with its first batch: until then its group may hold no position at all.
      lastCommitAt = 0;
      consumer.on(consumer.events.GROUP_JOIN, () => joined());
    },
  }).catch((error: unknown) => {
    logger.error({ err: error }, 'live feed stopped: Kafka refused the consumer');
    refused(error);
  });

  return Promise.resolve({
    alerts,
    events,
    counters: { filterEvaluations: 0 },
    ready,
    get undecodable() {
      return undecodable;
    },
    async stop() {
      alerts.closeAll();
      events.closeAll();
      stopConsuming();
      await consuming;
      // The group is this instance's alone: remove it rather than leave one behind per restart (not waiting
      // long for it when the brokers are away).
      await deleteGroup(kafka, groupId, logger);
    },
  });
}

const DELETE_GROUP_TIMEOUT_MS = 5_000;

async function deleteGroup(kafka: Kafka, groupId: string, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, DELETE_GROUP_TIMEOUT_MS)));
  const attempt = (async () => {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  })().catch((err: unknown) => logger.debug({ err, groupId }, 'live feed group not deleted'));
  await Promise.race([attempt, timeout]);
  clearTimeout(timer);
  await admin.disconnect().catch(() => undefined);
}

/** How often the live feed commits its consumer's position (and so how much a replaced consumer fetches again). */
const COMMIT_INTERVAL_MS = 2_000;

/**
 * What the live feed delivered, per topic partition, across its consumers: a replaced consumer resumes from the
 * last committed position, behind the highest offset delivered, and the messages between the two were delivered
 * already. Only that window is skipped: an offset below the committed position is new (a topic deleted and made
 * again starts over at 0).
 */
export class DeliveredOffsets {
  private readonly highest = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();

  /** False for a message delivered already; otherwise records it as delivered. */
  first(topic: string, partition: number, offset: string): boolean {
    const key = partitionKey(topic, partition);
    const at = BigInt(offset);
    const highest = this.highest.get(key);
    const committed = this.committed.get(key);
    if (highest !== undefined && committed !== undefined && at >= committed && at <= highest) return false;
    this.highest.set(key, at);
    return true;
  }

  /** The positions (next offsets to read) the group committed. */
  commit({ topics }: OffsetsByTopicPartition): void {
    for (const { topic, partitions } of topics) {
      for (const { partition, offset } of partitions) {
        this.committed.set(partitionKey(topic, partition), BigInt(offset));
      }
    }
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
