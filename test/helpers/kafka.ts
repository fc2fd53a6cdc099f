// Kafka for tests: the broker the test command started, a unique topic per test, and a bounded consumer.
import { Partitioners, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { createLogger } from '../../src/logger.ts';
import { createKafka, ensureTopics } from '../../src/pipeline/kafka.ts';
import { testConfig, uniqueName } from './context.ts';

export function testKafka(): Kafka {
  const config = testConfig();
  return createKafka(config.kafka, createLogger({ level: 'error' }), uniqueName('test'));
}

export async function createTestTopic(kafka: Kafka, prefix = 'test', partitions = 2): Promise<string> {
  const topic = uniqueName(prefix);
  await ensureTopics(kafka, [topic], partitions);
  return topic;
}

export async function connectedProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

/** Reads `topic` from the beginning until `count` messages arrived or the deadline passed; returns what came. */
export async function consumeMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('test-group') });
  const received: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: ({ message }) => {
          received.push(message);
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}
