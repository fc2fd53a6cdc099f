// The dead-letter topic: messages that cannot be processed, unchanged, with why in their headers.
import type { Producer } from 'kafkajs';
import { sendInChunks } from '../kafka.ts';
import type { SourceMessage } from '../sources/kafka-batch-source.ts';

export interface DeadLetter {
  message: SourceMessage;
  reason: string;
  error?: unknown;
}

export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

export function createKafkaDeadLetterSink(
  producer: Producer,
  topic: string,
  service: string,
  maxRequestBytes: number,
): DeadLetterSink {
  return {
    async send(letters) {
      await sendInChunks(
        producer,
        topic,
        letters.map(({ message, reason, error }) => ({
          key: message.key,
          value: message.value,
          headers: {
            'fink-reason': reason,
            'fink-error': error instanceof Error ? error.message.slice(0, 1000) : '',
            'fink-service': service,
            'fink-source': `${message.topic}/${message.partition}/${message.offset}`,
          },
        })),
        maxRequestBytes,
      );
    },
  };
}
