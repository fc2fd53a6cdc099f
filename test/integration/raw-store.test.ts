// The raw archive reads back what stream2raw wrote, byte for byte, by survey and alert id.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { ClickHouseRawAlertStore, type RawAlertRow } from '../../src/storage/raw-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createMigratedDatabase('rawstore');
});
afterAll(async () => {
  await db?.drop();
});

describe('ClickHouseRawAlertStore.payloads', () => {
  it('answers each archived alert once, byte for byte, and nothing for unknown keys', async () => {
    const decoder = createZtfDecoder();
    const payloads = ztfAlertFiles()
      .slice(0, 40)
      .map((file) => readFileSync(file));
    const row = (payload: Buffer, receivedAt: Date, i: number): RawAlertRow => {
      const alert = decoder.decode(payload);
      return {
        survey: 'ztf',
        alertId: alert.candid,
        objectId: alert.objectId,
        ra: alert.candidate.ra,
        dec: alert.candidate.dec,
        jd: alert.candidate.jd,
        topic: 't',
        partition: 0,
        offset: BigInt(i),
        receivedAt,
        payload,
        problem: '',
      };
    };
    const store = new ClickHouseRawAlertStore(db.client);
    await store.write(payloads.map((p, i) => row(p, new Date('2026-01-15T00:00:00Z'), i)));
    // A replay a month later: another partition, the same bytes.
    await store.write(payloads.slice(0, 10).map((p, i) => row(p, new Date('2026-02-15T00:00:00Z'), i)));
    const keys = payloads.map((p) => ({ survey: 'ztf', alertId: decoder.decode(p).candid }));
    const found = await store.payloads([
      ...keys,
      { survey: 'ztf', alertId: 1n },
      { survey: 'lsst', alertId: keys[0]!.alertId },
    ]);
    const byId = new Map(found.map((a) => [a.alertId, a]));
    expect(found).toHaveLength(new Set(keys.map((k) => k.alertId)).size);
    keys.forEach(({ alertId }, i) => {
      expect(byId.get(alertId)?.survey).toBe('ztf');
      expect(byId.get(alertId)?.payload.equals(payloads[i]!)).toBe(true);
    });
  });
});
