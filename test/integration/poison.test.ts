// A poison corpus among the real alerts, through the running services (`fink run stream2raw|raw2science|
// distribution`, as `fink start` runs them): every real alert is stored, every poison message is archived or
// dead-lettered with its reason, each dead-lettered once, and no service restarts.
import type { Admin, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import type { Alert } from '../../src/pipeline/alert.ts';
import { createAlertDecoder } from '../../src/pipeline/decode/alert-decoder.ts';
import { archiveKeyOf, checkAlertBounds, DEFAULT_INGEST_LIMITS } from '../../src/pipeline/decode/bounds.ts';
import { rubinToAlert } from '../../src/pipeline/decode/rubin-alert.ts';
import { createRubinDecoder } from '../../src/pipeline/decode/rubin-avro.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { ensureTopics } from '../../src/pipeline/kafka.ts';
import { createQualityCutsStep } from '../../src/pipeline/steps/quality.step.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { rubinMessages } from '../../datasim/rubin.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { testConfig, uniqueName } from '../helpers/context.ts';
import { connectedProducer, consumeMessages, testKafka } from '../helpers/kafka.ts';
import { readAll } from '../helpers/pipeline.ts';
import { poisonCorpus, RUBIN_SCHEMA_DIR, rubinSeeds, ztfSeeds, type PoisonCase } from '../helpers/poison.ts';
import {
  committedOffsets,
  endOffsets,
  killServiceProcesses,
  startServiceProcess,
  type ServiceProcess,
} from '../helpers/processes.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';

const kafka = testKafka();
let admin: Admin;
let db: TestDatabase;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  db = await createMigratedDatabase('poison');
});

afterAll(async () => {
  await killServiceProcesses();
  await admin?.disconnect();
  await db?.drop();
});

function decoder() {
  const rubin = createRubinDecoder({ schemaDirs: new Map([[1000, RUBIN_SCHEMA_DIR]]) });
  return createAlertDecoder({
    ztf: createZtfDecoder(),
    rubin: {
      decode: async (message) => {
        const { alert, schemaJson } = await rubin.decodeWithSchema(message);
        return rubinToAlert(alert, schemaJson);
      },
    },
  });
}

/** The decoded alert of a message, or undefined when it does not decode. */
async function decodeOrNot(value: Buffer): Promise<Alert | undefined> {
  return decoder()
    .decode(value)
    .catch(() => undefined);
}

/** Published in order on a one-partition topic: message i is at offset i. */
interface Published {
  name: string;
  value: Buffer;
  real: boolean;
}

describe('a poison corpus among the real alerts, through the running services', () => {
  it('stores every real alert, archives or dead-letters every poison once, and no service restarts', async () => {
    const ztfPayloads = readAll(ztfAlertFiles());
    const rubin = await rubinSeeds();
    const corpus: PoisonCase[] = [
      ...poisonCorpus(ztfSeeds(8)[3]!, rubin),
      { name: 'not an alert', value: Buffer.from('definitely not an alert') },
      { name: 'truncated', value: ztfPayloads[0]!.subarray(0, 1000) },
      { name: 'empty', value: Buffer.alloc(0) },
    ];
    const reals: Published[] = [
      ...ztfPayloads.map((value, i) => ({ name: `ztf ${i}`, value, real: true })),
      ...rubinMessages(rubin.alerts, rubin.schemaId, rubin.schema).map((value, i) => ({
        name: `rubin ${i}`,
        value,
        real: true,
      })),
    ];
    // Poison spread among the real alerts: the stream must go on after each.
    const published: Published[] = [];
    const every = Math.floor(reals.length / corpus.length);
    reals.forEach((real, i) => {
      published.push(real);
      const poison = i % every === 0 ? corpus[i / every] : undefined;
      if (poison !== undefined) published.push({ ...poison, real: false });
    });
    for (const poison of corpus.slice(Math.ceil(reals.length / every)))
      published.push({ ...poison, real: false });
    expect(published.filter((p) => !p.real)).toHaveLength(corpus.length);

    const upstream = uniqueName('poison_upstream');
    const config: Config = testConfig({
      clickhouse: { database: db.config.database },
      pipeline: {
        topics: [upstream],
        scienceTopic: uniqueName('poison_science'),
        deadLetterTopic: uniqueName('poison_dead'),
        distributionPrefix: uniqueName('poison'),
        groupPrefix: uniqueName('poison'),
        batchMaxAgeMs: 300,
        batchMaxMessages: 200,
        metricsPort: 0,
      },
      server: { eventsTopic: uniqueName('poison_events') },
      log: { level: 'info' },
    });
    await ensureTopics(kafka, [upstream], 1);
    const producer = await connectedProducer(kafka);
    for (let i = 0; i < published.length; i += 50) {
      await producer.send({
        topic: upstream,
        acks: -1,
        messages: published.slice(i, i + 50).map(({ value }) => ({ value, partition: 0 })),
      });
    }
    await producer.disconnect();

    const services: ServiceProcess[] = ['stream2raw', 'raw2science', 'distribution'].map((name) =>
      startServiceProcess(name, config),
    );
    for (const service of services) await service.waitReady();
    const [stream2raw, raw2science, distribution] = services as [
      ServiceProcess,
      ServiceProcess,
      ServiceProcess,
    ];
    const { groupPrefix, scienceTopic, deadLetterTopic } = config.pipeline;
    const allCommitted = async (service: ServiceProcess, topic: string) => {
      const end = await endOffsets(admin, topic);
      await service.waitUntil(
        async () =>
          JSON.stringify(await committedOffsets(admin, `${groupPrefix}-${service.name}`, topic)) ===
          JSON.stringify(end),
        120_000,
        `committing every offset of ${topic}`,
      );
    };
    await allCommitted(stream2raw, upstream);
    await allCommitted(raw2science, upstream);
    await allCommitted(distribution, scienceTopic);

    // No restart, no failed batch: the same processes ran through everything.
    for (const service of services) {
      expect(service.running, service.tail()).toBe(true);
      expect(service.logged('batch failed; stopping without committing it'), service.name).toEqual([]);
    }

    // What each message should become, from its own bytes: archived (flagged when out of bounds) or not decodable.
    const expectations = await Promise.all(
      published.map(async ({ name, value, real }, offset) => {
        const alert = await decodeOrNot(value);
        const checked = alert === undefined ? undefined : checkAlertBounds(alert, DEFAULT_INGEST_LIMITS);
        const storable =
          checked?.kind === 'ok' && (await createQualityCutsStep()(checked.alert)).kind === 'ok';
        return { name, real, offset, alert, checked, storable };
      }),
    );

    // stream2raw: every decodable message archived, at its offset, with its problem flag.
    const archived = await queryRows<{ offset: string; alert_id: string; problem: string }>(
      db.client,
      sql`SELECT toString(offset) AS offset, toString(alert_id) AS alert_id, problem FROM raw_alerts FINAL`,
    );
    const archivedAt = new Map(archived.map((row) => [Number(row.offset), row]));
    for (const { name, offset, alert, checked } of expectations) {
      const row = archivedAt.get(offset);
      if (alert === undefined) {
        expect(row, `${name} does not decode: not archived`).toBeUndefined();
        continue;
      }
      // Three real alerts repeat an earlier candid (published twice upstream): one row for both.
      if (row === undefined) continue;
      expect(row.alert_id, name).toBe(archiveKeyOf(alert).alertId.toString());
      expect(row.problem, name).toBe(checked?.kind === 'rejected' ? checked.reason : '');
    }
    const archivedIds = new Set(archived.map((row) => row.alert_id));
    for (const { name, alert } of expectations) {
      if (alert !== undefined)
        expect(archivedIds.has(archiveKeyOf(alert).alertId.toString()), name).toBe(true);
    }

    // raw2science: every alert within bounds that passes the quality cuts is stored, real ones all of them.
    const stored = new Set(
      (
        await queryRows<{ id: string }>(db.client, sql`SELECT toString(alert_id) AS id FROM alerts FINAL`)
      ).map((row) => row.id),
    );
    const storable = expectations.flatMap(({ name, real, storable: ok, alert }) =>
      ok && alert !== undefined ? [{ name, real, id: alert.alertId.toString() }] : [],
    );
    expect(storable.filter((e) => e.real).length).toBeGreaterThan(500);
    for (const { name, id } of storable) expect(stored.has(id), name).toBe(true);
    expect(stored.size).toBe(new Set(storable.map((e) => e.id)).size);

    // Dead letters: each bad message once, by one service, with its reason and where it came from.
    const expectedLetters = expectations.filter(
      (e) => e.alert === undefined || e.checked?.kind === 'rejected',
    );
    const letters: KafkaMessage[] = await consumeMessages(
      kafka,
      deadLetterTopic,
      expectedLetters.length + 1,
      15_000,
    );
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString() ?? '';
    const sources = letters.map((m) => header(m, 'fink-source'));
    expect(new Set(sources).size, 'a message dead-lettered twice').toBe(sources.length);
    expect(letters).toHaveLength(expectedLetters.length);
    const letterAt = new Map(letters.map((m) => [Number(header(m, 'fink-source').split('/')[2]), m]));
    for (const { name, offset, alert, checked } of expectedLetters) {
      const letter = letterAt.get(offset);
      expect(letter, `${name} dead-lettered`).toBeDefined();
      if (alert === undefined) {
        expect(header(letter!, 'fink-service'), name).toBe('stream2raw');
        expect(header(letter!, 'fink-step'), name).toBe('decode');
      } else {
        expect(header(letter!, 'fink-service'), name).toBe('raw2science');
        expect(header(letter!, 'fink-reason'), name).toBe(checked?.kind === 'rejected' ? checked.reason : '');
        expect(header(letter!, 'fink-step'), name).toBe('bounds');
      }
      // The message is kept unchanged for a replay.
      expect(
        letter!.value?.equals(published[offset]!.value) ?? published[offset]!.value.length === 0,
        name,
      ).toBe(true);
    }
    // One structured log line per dead letter, never the payload.
    const logged = [...stream2raw.logged('dead letter'), ...raw2science.logged('dead letter')];
    expect(logged).toHaveLength(letters.length);
    for (const line of logged) {
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['reason', 'topic', 'partition', 'offset']));
      expect(JSON.stringify(line).length).toBeLessThan(2000);
    }
  });
});
