import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';

describe('the local Kafka broker', () => {
  it('carries real ZTF alert files byte for byte', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 'ztf_bytes');
    const files = ztfAlertFiles();
    // One file of each schema version, and the largest one.
    const picks = [files[0]!, files[files.length - 1]!];
    const payloads = picks.map((file) => readFileSync(file));
    const producer = await connectedProducer(kafka);
    await producer.send({
      topic,
      acks: -1,
      messages: picks.map((file, i) => ({ key: path.basename(file), value: payloads[i]! })),
    });
    await producer.disconnect();

    const received = await consumeMessages(kafka, topic, picks.length);
    expect(received).toHaveLength(picks.length);
    const byKey = new Map(received.map((message) => [message.key?.toString(), message.value]));
    picks.forEach((file, i) => {
      const value = byKey.get(path.basename(file));
      expect(value?.length).toBe(payloads[i]!.length);
      expect(Buffer.compare(value!, payloads[i]!)).toBe(0);
    });
  });
});
