import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/pipeline/alert.ts';
import { UnknownFormatError, type AlertDecoder } from '../../src/pipeline/decode/alert-decoder.ts';
import { InfrastructureError } from '../../src/pipeline/framework.ts';
import { decodeBatch } from '../../src/pipeline/services/decode-batch.ts';
import type { SourceMessage } from '../../src/pipeline/sources/kafka-batch-source.ts';

function message(value: string): SourceMessage {
  return {
    topic: 't',
    partition: 0,
    offset: '0',
    key: null,
    value: Buffer.from(value),
    headers: {},
    timestamp: 0,
    receivedAt: 0,
  };
}

/** Decodes 'ok*' messages, refuses 'bad*' ones, and fails 'registry*' ones while the registry is down. */
function fakeDecoder(registryDownFor: number): AlertDecoder & { calls: number } {
  const decoder = {
    calls: 0,
    decode(value: Buffer | null): Promise<Alert> {
      const text = value?.toString() ?? '';
      if (text.startsWith('bad')) return Promise.reject(new UnknownFormatError('not an alert'));
      if (text.startsWith('registry')) {
        decoder.calls++;
        if (decoder.calls <= registryDownFor) {
          return Promise.reject(new InfrastructureError('schema registry unreachable', true));
        }
      }
      if (text.startsWith('bug')) return Promise.reject(new TypeError('a bug'));
      return Promise.resolve({ objectId: text } as unknown as Alert);
    },
  };
  return decoder;
}

describe('decodeBatch', () => {
  it('keeps what decodes and dead-letters what never will, with the reason', async () => {
    const batch = await decodeBatch(fakeDecoder(0), [message('ok1'), message('bad1'), message('ok2')], {});
    expect(batch.decoded.map((d) => d.alert.objectId)).toEqual(['ok1', 'ok2']);
    expect(batch.letters.map((l) => [l.message.value?.toString(), l.reason])).toEqual([
      ['bad1', 'unknown-format'],
    ]);
  });

  it('waits out a registry outage instead of dead-lettering or crashing', async () => {
    const decoder = fakeDecoder(2);
    const retries: number[] = [];
    const batch = await decodeBatch(decoder, [message('registry1'), message('ok1')], {
      onRetry: (_error, attempt) => retries.push(attempt),
    });
    expect(retries).toEqual([1, 2]);
    expect(batch.decoded.map((d) => d.alert.objectId)).toEqual(['registry1', 'ok1']);
    expect(batch.letters).toEqual([]);
  });

  it('dead-letters a message the decoder throws an unforeseen error for, and keeps the others', async () => {
    const batch = await decodeBatch(fakeDecoder(0), [message('ok1'), message('bug1'), message('ok2')], {});
    expect(batch.decoded.map((d) => d.alert.objectId)).toEqual(['ok1', 'ok2']);
    expect(batch.letters.map((l) => [l.message.value?.toString(), l.reason])).toEqual([
      ['bug1', 'decode-failed'],
    ]);
  });

  it('throws a non-retriable infrastructure failure: it is not the message fault', async () => {
    const decoder: AlertDecoder = {
      decode: () => Promise.reject(new InfrastructureError('registry refused our credentials', false)),
    };
    await expect(decodeBatch(decoder, [message('ok1')], {})).rejects.toThrow('credentials');
  });
});
