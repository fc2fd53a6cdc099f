// The dead-letter topic: messages that cannot be processed, unchanged, with why in their headers. One structured
// log line per dead letter (reason, stage, where it came from), never its payload.
import type { Producer } from 'kafkajs';
import type { Logger } from '../../logger.ts';
import { sendInChunks } from '../kafka.ts';
import type { SourceMessage } from '../sources/kafka-batch-source.ts';

export interface DeadLetter {
  message: SourceMessage;
  reason: string;
  /** The stage that rejected the message ('decode' when it never became an alert). */
  step?: string;
  error?: unknown;
}

export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

/** What an error says about the message, bounded: headers are not a place for stack traces. */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 1000) : '';
}

export function createKafkaDeadLetterSink(
  producer: Producer,
  topic: string,
  service: string,
  maxRequestBytes: number,
  logger?: Logger,
): DeadLetterSink {
  return {
    async send(letters) {
      if (letters.length === 0) return;
      await sendInChunks(
        producer,
        topic,
        letters.map(({ message, reason, step, error }) => ({
          key: message.key,
          value: message.value,
          headers: {
            'fink-reason': reason,
            'fink-step': step ?? 'decode',
            'fink-error': errorText(error),
            'fink-service': service,
            'fink-source': `${message.topic}/${message.partition}/${message.offset}`,
          },
        })),
        maxRequestBytes,
      );
      // After the send: a line means the letter is on the topic.
      for (const { message, reason, step, error } of letters) {
        logger?.warn(
          {
            reason,
            step: step ?? 'decode',
            error: errorText(error),
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
            deadLetterTopic: topic,
          },
          'dead letter',
        );
      }
    },
  };
}
