import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listAlertFiles, runSimulator } from '../../datasim/simulator.ts';
import { createLogger } from '../../src/logger.ts';
import { testConfig } from '../helpers/context.ts';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { sharedPath } from '../helpers/shared-data.ts';

describe('the simulator', () => {
  it('publishes every real ZTF alert file once, each as one message, unchanged', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 'sim_all');
    const dir = sharedPath('datasim', 'ztf');
    const files = await listAlertFiles(dir);
    expect(files).toHaveLength(611);

    const producer = await connectedProducer(kafka);
    const result = await runSimulator(
      { ...testConfig().simulator, dir, topic, rate: 0, count: 0, loop: false },
      { send: async (t, messages) => void (await producer.send({ topic: t, messages, acks: -1 })) },
      createLogger({ level: 'silent' }),
      new AbortController().signal,
    );
    await producer.disconnect();
    expect(result.sent).toBe(611);

    const received = await consumeMessages(kafka, topic, 611);
    expect(received).toHaveLength(611);
    const expected = new Set(files.map((file) => readFileSync(file).toString('base64')));
    const got = new Set(received.map((message) => message.value?.toString('base64')));
    expect(got).toEqual(expected);
  });

  it('stops at --count and loops over the files when asked', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 'sim_loop');
    const dir = sharedPath('datasim', 'ztf', '2020-01');
    const producer = await connectedProducer(kafka);
    const sent: number[] = [];
    const result = await runSimulator(
      { ...testConfig().simulator, dir, topic, rate: 0, count: 120, loop: true },
      {
        send: async (t, messages) => {
          sent.push(messages.length);
          await producer.send({ topic: t, messages, acks: -1 });
        },
      },
      createLogger({ level: 'silent' }),
      new AbortController().signal,
    );
    await producer.disconnect();
    // 120 alerts from 50 files: every file more than twice.
    expect(result.sent).toBe(120);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(120);
    expect(await consumeMessages(kafka, topic, 120)).toHaveLength(120);
  });
});
