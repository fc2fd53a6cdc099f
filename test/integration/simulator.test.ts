import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listAlertFiles, loadReplays, runSimulator, type AlertSink } from '../../datasim/simulator.ts';
import { createLogger } from '../../src/logger.ts';
import { confluentSchemaId, createRubinDecoder } from '../../src/pipeline/decode/rubin-avro.ts';
import type { Producer } from 'kafkajs';
import { testConfig } from '../helpers/context.ts';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { sharedPath } from '../helpers/shared-data.ts';

const silent = createLogger({ level: 'silent' });

function kafkaSink(producer: Producer): AlertSink {
  return { send: async (topic, messages) => void (await producer.send({ topic, messages, acks: -1 })) };
}

describe('the simulator', () => {
  it('publishes every real ZTF alert file once, each as one message, unchanged', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 'sim_all');
    const dir = sharedPath('datasim', 'ztf');
    const files = await listAlertFiles(dir);
    expect(files).toHaveLength(611);

    const replays = await loadReplays({ ...testConfig().simulator, dir, topic, survey: 'ztf' });
    const producer = await connectedProducer(kafka);
    const result = await runSimulator(
      replays,
      { rate: 0, count: 0, loop: false },
      kafkaSink(producer),
      silent,
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
    const replays = await loadReplays({ ...testConfig().simulator, dir, topic, survey: 'ztf' });
    const producer = await connectedProducer(kafka);
    const sent: number[] = [];
    const result = await runSimulator(
      replays,
      { rate: 0, count: 120, loop: true },
      {
        send: async (t, messages) => {
          sent.push(messages.length);
          await producer.send({ topic: t, messages, acks: -1 });
        },
      },
      silent,
      new AbortController().signal,
    );
    await producer.disconnect();
    // 120 alerts from 50 files: every file more than twice.
    expect(result.sent).toBe(120);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(120);
    expect(await consumeMessages(kafka, topic, 120)).toHaveLength(120);
  });

  it('replays the 25 real Rubin alerts Confluent-framed with schema id 1000, alongside ZTF', async () => {
    const kafka = testKafka();
    const ztfTopic = await createTestTopic(kafka, 'sim_ztf');
    const rubinTopic = await createTestTopic(kafka, 'sim_lsst');
    const replays = await loadReplays({
      ...testConfig().simulator,
      dir: sharedPath('datasim', 'ztf', '2020-01'),
      topic: ztfTopic,
      rubinTopic,
      survey: 'all',
    });
    expect(replays.map((r) => [r.survey, r.size])).toEqual([
      ['ztf', 50],
      ['lsst', 25],
    ]);
    const producer = await connectedProducer(kafka);
    const result = await runSimulator(
      replays,
      { rate: 0, count: 0, loop: false },
      kafkaSink(producer),
      silent,
      new AbortController().signal,
    );
    await producer.disconnect();
    expect(result.sent).toBe(75);

    const received = await consumeMessages(kafka, rubinTopic, 25);
    expect(received).toHaveLength(25);
    const decoder = createRubinDecoder({
      schemaDirs: new Map([[1000, sharedPath('datasim', 'lsst', 'schema', '10', '0')]]),
    });
    const ids = new Set<string>();
    for (const message of received) {
      expect(message.value![0]).toBe(0);
      expect(confluentSchemaId(message.value!)).toBe(1000);
      ids.add(String((await decoder.decode(message.value!)).diaSourceId));
    }
    expect(ids.size).toBe(25);
    expect(await consumeMessages(kafka, ztfTopic, 50)).toHaveLength(50);
  });
});
