// The 25 real Rubin alerts through stream2raw and raw2science: Confluent-framed with the v10.0 schema, the
// schema served by a local registry endpoint (no local fallback configured), all decoded and stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRubinParquet, rubinMessages } from '../../datasim/rubin.ts';
import { startSchemaRegistry, type SchemaRegistryServer } from '../../datasim/schema-registry-server.ts';
import { rubinToAlert } from '../../src/pipeline/decode/rubin-alert.ts';
import { loadRubinSchema, rubinSchemaId, type RubinAlert } from '../../src/pipeline/decode/rubin-avro.ts';
import { rubinQualityFailure } from '../../src/pipeline/steps/quality.step.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { createPipelineSandbox, type PipelineSandbox } from '../helpers/pipeline.ts';
import { sharedPath } from '../helpers/shared-data.ts';
import { waitFor } from '../helpers/wait.ts';

let sandbox: PipelineSandbox;
let registry: SchemaRegistryServer;
let alerts: RubinAlert[];
/** diaSourceIds of the alerts that pass the Rubin quality cuts. */
let passing: Set<string>;

beforeAll(async () => {
  const schema = loadRubinSchema(sharedPath('datasim', 'lsst', 'schema', '10', '0'));
  const schemaId = rubinSchemaId(schema.version);
  alerts = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), { schema });
  passing = new Set(
    alerts.filter((a) => rubinQualityFailure(a.diaSource) === null).map((a) => String(a.diaSourceId)),
  );
  registry = await startSchemaRegistry({ port: 0, schemas: new Map([[schemaId, schema.json]]) });
  // rubinSchemas {}: no local schema directory, so every schema must come from the registry.
  sandbox = await createPipelineSandbox('lsst', { schemaRegistryUrl: registry.url, rubinSchemas: {} });
  await sandbox.start('stream2raw');
  await sandbox.start('raw2science');
  await sandbox.publish(rubinMessages(alerts, schemaId, schema));
  await waitFor(async () => {
    const [raw] = await queryRows<{ n: string }>(
      sandbox.db.client,
      sql`SELECT count() AS n FROM raw_alerts FINAL`,
    );
    const [stored] = await queryRows<{ n: string }>(
      sandbox.db.client,
      sql`SELECT count() AS n FROM alerts FINAL`,
    );
    return Number(raw?.n) === alerts.length && Number(stored?.n) === passing.size;
  }, 120_000);
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
  await registry?.close();
});

describe('the pipeline on the 25 real Rubin alerts', () => {
  it('archives all 25, ids exact, with the schema fetched from the registry once per service', async () => {
    expect(alerts).toHaveLength(25);
    const rows = await queryRows<{ id: string; survey: string; object_id: string }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, survey, object_id FROM raw_alerts FINAL`,
    );
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(alerts.map((a) => String(a.diaSourceId))));
    expect(rows.every((r) => r.survey === 'lsst')).toBe(true);
    for (const row of rows) {
      const alert = alerts.find((a) => String(a.diaSourceId) === row.id)!;
      expect(row.object_id).toBe(rubinToAlert(alert, '').objectId);
    }
    // Two services, each caching the schema of id 1000 after its first request.
    expect(registry.requests).toBe(2);
  });

  it('stores the alerts that pass the Rubin quality cuts, with light curves and cutouts as received', async () => {
    expect(passing.size).toBeGreaterThan(0);
    expect(passing.size).toBeLessThan(25);
    const stored = await queryRows<{ id: string; band: string; mag: number | null }>(
      sandbox.db.client,
      sql`SELECT toString(alert_id) AS id, band, mag FROM alerts FINAL`,
    );
    expect(new Set(stored.map((r) => r.id))).toEqual(passing);
    const cutouts = await sandbox.cutouts([...passing].map(BigInt));
    expect(cutouts.size).toBe(passing.size);
    for (const [id, row] of cutouts) {
      const alert = alerts.find((a) => String(a.diaSourceId) === id.toString())!;
      // Compared as hex: a deep equality of Buffers walks them byte by byte.
      const hex = (buffer: Buffer | null | undefined) => (buffer == null ? '' : buffer.toString('hex'));
      expect(hex(row.science)).toBe(hex(alert.cutoutScience));
      expect(hex(row.template)).toBe(hex(alert.cutoutTemplate));
      expect(hex(row.difference)).toBe(hex(alert.cutoutDifference));
    }
    const points = await queryRows<{ object_id: string; n: string }>(
      sandbox.db.client,
      sql`SELECT object_id, count() AS n FROM lightcurve FINAL GROUP BY object_id`,
    );
    const expected = new Map<string, Set<string>>();
    for (const alert of alerts.filter((a) => passing.has(String(a.diaSourceId)))) {
      const mapped = rubinToAlert(alert, '');
      const keys = expected.get(mapped.objectId) ?? new Set<string>();
      for (const p of mapped.points) keys.add(`${p.jd.toFixed(7)}|${p.band}`);
      expected.set(mapped.objectId, keys);
    }
    expect(new Map(points.map((r) => [r.object_id, Number(r.n)]))).toEqual(
      new Map([...expected].map(([id, keys]) => [id, keys.size])),
    );
  });
});
