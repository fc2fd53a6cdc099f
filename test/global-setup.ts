// Integration runs create a database and topics per test (uniqueName: <prefix>_<base36 ms>_<hex>). Tests drop
// what they can; this removes whatever this run left behind (a failed assertion skips cleanup), and only that:
// names made by uniqueName after this run started and carrying its tag (concurrent runs leave each other alone).
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createKafka } from '../src/pipeline/kafka.ts';
import { connectClickHouse, queryRows, runCommand } from '../src/storage/clickhouse.ts';
import { identifier, sql } from '../src/storage/sql.ts';
import { RUN_TAG_ENV } from './helpers/context.ts';

const UNIQUE_NAME = /_([0-9a-z]{8,9})_([0-9a-f]{6})(_[a-z0-9_]+)?$/;

function madeSince(name: string, since: number, tag: string): boolean {
  const match = UNIQUE_NAME.exec(name);
  return match !== null && Number.parseInt(match[1]!, 36) >= since && match[2]!.startsWith(tag);
}

export default function setup(): () => Promise<void> {
  const startedAt = Date.now();
  // Workers inherit the environment: every uniqueName of this run carries the tag.
  const tag = randomBytes(2).toString('hex').slice(0, 3);
  process.env[RUN_TAG_ENV] = tag;
  return async function teardown() {
    const config = loadConfig();
    const kafka = createKafka(config.kafka, createLogger({ level: 'silent' }), 'fink-test-teardown');
    const admin = kafka.admin();
    await admin.connect();
    try {
      // A topic a test is deleting itself as the run ends is gone by the time the broker reads the request
      // (UNKNOWN_TOPIC_OR_PARTITION for the whole request): list again and delete what is left.
      for (let attempt = 0; attempt < 3; attempt++) {
        const topics = (await admin.listTopics()).filter((topic) => madeSince(topic, startedAt, tag));
        if (topics.length === 0) break;
        try {
          await admin.deleteTopics({ topics });
          break;
        } catch (error) {
          if (!isUnknownTopic(error)) throw error;
        }
      }
    } finally {
      await admin.disconnect();
    }
    const client = connectClickHouse(config.clickhouse, { database: null });
    try {
      const databases = await queryRows<{ name: string }>(client, sql`SELECT name FROM system.databases`);
      for (const { name } of databases.filter((db) => madeSince(db.name, startedAt, tag))) {
        await runCommand(client, sql`DROP DATABASE IF EXISTS ${identifier(name, [name])}`);
      }
    } finally {
      await client.close();
    }
  };
}

function isUnknownTopic(error: unknown): boolean {
  const { type, cause } = (error ?? {}) as { type?: unknown; cause?: unknown };
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || (cause !== undefined && isUnknownTopic(cause));
}
