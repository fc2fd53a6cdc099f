// Decoding a batch, as every consuming service does it: alerts for the ones that decode, dead letters (with the
// reason) for the ones that never will, and a wait-and-retry when decoding depends on something that is down
// (the Rubin schema registry): that is not the message's fault, so it must neither dead-letter nor crash.
// A decoder or mapper throwing something unforeseen for one message is that message's problem too
// ('decode-failed'): a message never stops a consumer, only infrastructure does.
import type { Alert } from '../alert.ts';
import { decodeFailureReason, type AlertDecoder } from '../decode/alert-decoder.ts';
import { isInfrastructureError, retry, type RetryOptions } from '../framework.ts';
import type { DeadLetter } from '../sinks/dead-letter-sink.ts';
import type { SourceMessage } from '../sources/kafka-batch-source.ts';

export interface DecodedBatch {
  decoded: { alert: Alert; message: SourceMessage }[];
  letters: DeadLetter[];
}

/** Retries (per `options`) while a failure is retriable; a non-retriable infrastructure failure is thrown. */
export function decodeBatch(
  decoder: AlertDecoder,
  messages: readonly SourceMessage[],
  options: Pick<RetryOptions, 'signal' | 'onRetry'>,
): Promise<DecodedBatch> {
  return retry(async () => {
    const outcomes = await Promise.allSettled(messages.map((message) => decoder.decode(message.value)));
    const batch: DecodedBatch = { decoded: [], letters: [] };
    outcomes.forEach((outcome, i) => {
      const message = messages[i]!;
      if (outcome.status === 'fulfilled') {
        batch.decoded.push({ alert: outcome.value, message });
        return;
      }
      const reason = decodeFailureReason(outcome.reason);
      if (reason === undefined && isInfrastructureError(outcome.reason)) throw outcome.reason;
      batch.letters.push({ message, reason: reason ?? 'decode-failed', error: outcome.reason });
    });
    return batch;
  }, options);
}
