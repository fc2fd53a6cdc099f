// stream2raw against the real broker and server: every alert archived byte for byte, bad messages dead-lettered
// with their reason while the stream goes on, offsets committed once the rows are written.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, serveMetrics } from '../../src/metrics.ts';
import { createAlertDecoder } from '../../src/pipeline/decode/alert-decoder.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { ensureTopics } from '../../src/pipeline/kafka.ts';
import { createStream2RawHandler } from '../../src/pipeline/services/stream2raw.ts';
import { createKafkaDeadLetterSink } from '../../src/pipeline/sinks/dead-letter-sink.ts';
import { runKafkaBatchSource } from '../../src/pipeline/sources/kafka-batch-source.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { ClickHouseRawAlertStore } from '../../src/storage/raw-store.ts';
import { sql } from '../../src/storage/sql.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { freePort, uniqueName } from '../helpers/context.ts';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createMigratedDatabase('s2r');
});
afterAll(async () => {
  await db.drop();
});

describe('stream2raw', () => {
  it('archives all 611 real alerts losslessly and dead-letters corrupt ones without stopping', async () => {
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 'ztf_upstream');
    const deadLetterTopic = uniqueName('dead_letters');
    await ensureTopics(kafka, [deadLetterTopic], 1);
    const files = ztfAlertFiles();
    const payloads = files.map((file) => readFileSync(file));
    const truncated = payloads[0]!.subarray(0, 1000);
    const corrupt = [
      { value: Buffer.from('definitely not an alert'), reason: 'unknown-format' },
      { value: truncated, reason: 'truncated' },
      { value: Buffer.alloc(0), reason: 'empty-message' },
    ];
    const producer = await connectedProducer(kafka);
    // The bad messages sit among the good ones: the stream must go on after each.
    await producer.send({ topic, acks: -1, messages: payloads.slice(0, 300).map((value) => ({ value })) });
    await producer.send({ topic, acks: -1, messages: corrupt.map(({ value }) => ({ value })) });
    await producer.send({ topic, acks: -1, messages: payloads.slice(300).map((value) => ({ value })) });

    const controller = new AbortController();
    const logger = createLogger({ level: 'silent' });
    const metrics = createMetrics('stream2raw');
    const port = await freePort();
    const metricsServer = await serveMetrics(metrics.registry, port, logger);
    const groupId = uniqueName('s2r');
    const running = runKafkaBatchSource({
      kafka,
      groupId,
      topics: [topic],
      fromBeginning: true,
      maxBatchMessages: 200,
      maxBatchAgeMs: 200,
      sessionTimeoutMs: 30_000,
      handler: createStream2RawHandler({
        decoder: createAlertDecoder({ ztf: createZtfDecoder() }),
        store: new ClickHouseRawAlertStore(db.client),
        deadLetters: createKafkaDeadLetterSink(producer, deadLetterTopic, 'stream2raw', 1_000_000),
        metrics,
        logger,
        signal: controller.signal,
      }),
      logger,
      signal: controller.signal,
    });

    // 611 files hold 608 distinct candids (three alerts were published twice upstream).
    await waitFor(async () => {
      const [row] = await queryRows<{ n: string }>(db.client, sql`SELECT count() AS n FROM raw_alerts FINAL`);
      return Number(row?.n) === 608;
    }, 60_000);
    const letters = await consumeMessages(kafka, deadLetterTopic, corrupt.length);
    expect(letters.map((m) => m.headers?.['fink-reason']?.toString()).sort()).toEqual(
      corrupt.map((c) => c.reason).sort(),
    );
    expect(letters.find((m) => m.headers?.['fink-reason']?.toString() === 'truncated')?.value).toEqual(
      truncated,
    );

    // Offsets are committed up to the end once every batch is written.
    const admin = kafka.admin();
    await admin.connect();
    await waitFor(async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = committed!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      return total === payloads.length + corrupt.length;
    }, 30_000);
    await admin.disconnect();
    controller.abort();
    await running;
    await producer.disconnect();

    // What Prometheus scrapes: every message counted, archived or dead-lettered with its reason.
    const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    metricsServer?.close();
    const total = payloads.length + corrupt.length;
    expect(scraped).toContain(`fink_messages_received_total{topic="${topic}",service="stream2raw"} ${total}`);
    expect(scraped).toContain(
      `fink_rows_written_total{table="raw_alerts",service="stream2raw"} ${payloads.length}`,
    );
    for (const { reason } of corrupt) {
      expect(scraped).toContain(`fink_dead_letters_total{reason="${reason}",service="stream2raw"} 1`);
    }
    expect(scraped).toMatch(/fink_receipt_to_stored_seconds_count\{service="stream2raw"\} \d+/);

    // Byte for byte: every archived payload is one of the files, and every file's candid is archived.
    const rows = await queryRows<{ alert_id: string; payload: string }>(
      db.client,
      sql`SELECT toString(alert_id) AS alert_id, hex(payload) AS payload FROM raw_alerts FINAL`,
    );
    const fileHexes = new Set(payloads.map((p) => p.toString('hex').toUpperCase()));
    for (const row of rows) expect(fileHexes.has(row.payload)).toBe(true);
    const decoder = createZtfDecoder();
    const candids = new Set(payloads.map((p) => decoder.decode(p).candid.toString()));
    expect(new Set(rows.map((row) => row.alert_id))).toEqual(candids);
  });
});
