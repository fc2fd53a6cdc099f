// One decoder for every upstream message, whatever the survey: the first bytes tell the format.
// ZTF sends Avro container files ('Obj' 0x01); Rubin sends Confluent wire format (0x00 + schema id).
import type { Alert } from '../alert.ts';
import { ztfToAlert } from './ztf-alert.ts';
import type { ZtfAlert } from './ztf-avro.ts';

export interface AlertDecoder {
  /** Rejects with an error with a `reason` (see decodeFailureReason) for a message that can never be decoded. */
  decode(message: Buffer | null): Promise<Alert>;
}

/** A message whose bytes are no alert of any survey. */
export class UnknownFormatError extends Error {
  override name = 'UnknownFormatError';
  constructor(
    message: string,
    readonly reason: 'unknown-format' | 'empty-message' = 'unknown-format',
  ) {
    super(message);
  }
}

export interface AlertDecoderDeps {
  ztf: { decodeWithSchema(message: Buffer): { alert: ZtfAlert; schemaJson: string } };
  /** Rubin decode + mapping; absent when the broker reads no Rubin stream. */
  rubin?: { decode(message: Buffer): Promise<Alert> };
}

const AVRO_CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
const CONFLUENT_MAGIC = 0;

export function createAlertDecoder({ ztf, rubin }: AlertDecoderDeps): AlertDecoder {
  return {
    decode(message) {
      if (message === null || message.length === 0) {
        return Promise.reject(new UnknownFormatError('message has no value', 'empty-message'));
      }
      if (message.subarray(0, 4).equals(AVRO_CONTAINER_MAGIC)) {
        return Promise.resolve().then(() => {
          const { alert, schemaJson } = ztf.decodeWithSchema(message);
          return ztfToAlert(alert, schemaJson);
        });
      }
      if (message[0] === CONFLUENT_MAGIC && rubin !== undefined) return rubin.decode(message);
      const start = message.subarray(0, 8).toString('hex');
      return Promise.reject(new UnknownFormatError(`message starts with 0x${start}: neither ZTF nor Rubin`));
    },
  };
}

/**
 * The dead-letter reason of an error thrown by a decoder (a `*DecodeError` or UnknownFormatError), or undefined
 * when the error is not about the message (infrastructure, or a bug) and must not be dead-lettered.
 */
export function decodeFailureReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const reason = (error as { reason?: unknown }).reason;
  const isDecodeError = error.name.endsWith('DecodeError') || error instanceof UnknownFormatError;
  return isDecodeError && typeof reason === 'string' ? reason : undefined;
}
