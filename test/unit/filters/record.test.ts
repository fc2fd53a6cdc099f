// filterRecordFromScience reads a science message exactly as science-rows.ts wrote the same alert into `alerts`:
// every real alert goes both ways (table row, and message encoded then decoded) and the fields must agree.
import { describe, expect, it } from 'vitest';
import { readRubinParquet } from '../../../datasim/rubin.ts';
import { filterRecordFromScience } from '../../../src/filters/record.ts';
import type { Alert } from '../../../src/pipeline/alert.ts';
import { rubinToAlert } from '../../../src/pipeline/decode/rubin-alert.ts';
import { loadRubinSchema } from '../../../src/pipeline/decode/rubin-avro.ts';
import { sourceDatumOf } from '../../../src/pipeline/decode/ztf-avro.ts';
import {
  createDistributionEncoder,
  decodeDistributionMessage,
} from '../../../src/pipeline/encode/distribution.ts';
import {
  toDistributionEnrichment,
  toScienceRecord,
  type EnrichedAlert,
} from '../../../src/pipeline/services/science-rows.ts';
import { computeLightCurveFeatures } from '../../../src/pipeline/steps/features.step.ts';
import { realZtfAlerts } from '../../helpers/alerts.ts';
import { sharedPath } from '../../helpers/shared-data.ts';

const encoder = createDistributionEncoder({ brokerVersion: 'test' });
const processedAt = new Date(1_700_000_000_000);

function enrich(alert: Alert, i: number): EnrichedAlert {
  return {
    ...alert,
    roid: (i % 4) as 0 | 1 | 2 | 3,
    ssName: i % 4 === 3 ? `sso${i}` : null,
    crossmatches:
      i % 3 === 0
        ? [
            {
              catalog: 'gcvs',
              sourceId: `V${i}`,
              distanceArcsec: 0.5,
              type: i % 2 ? 'EA' : null,
              overriding: false,
            },
          ]
        : [],
    features: computeLightCurveFeatures(alert.points),
    classification: { label: i % 2 ? 'SN candidate' : 'Unknown', scores: [] },
    watchlistHits: [],
  };
}

function roundTrip(enriched: EnrichedAlert) {
  const message = {
    topic: 't',
    partition: 0,
    offset: '0',
    key: null,
    value: null,
    headers: {},
    timestamp: 0,
    receivedAt: 0,
  };
  const row = toScienceRecord({ alert: enriched, message }, processedAt, 'test');
  const { key, value } = encoder.encode({
    writerSchemaJson: enriched.schemaJson,
    record: enriched.survey === 'ztf' ? enriched.ztf : enriched.lsst,
    recordDatum: enriched.survey === 'ztf' ? sourceDatumOf(enriched.ztf) : undefined,
    enrichment: toDistributionEnrichment(enriched, processedAt),
  });
  const record = filterRecordFromScience(decodeDistributionMessage(key, value), ['w1']);
  return { row, record };
}

function expectSameFields(enriched: EnrichedAlert): void {
  const { row, record } = roundTrip(enriched);
  const nan = (v: number | null) => (v === null || Number.isNaN(v) ? null : v);
  expect({
    survey: record.survey,
    alertId: record.alertId,
    objectId: record.objectId,
    jd: record.jd,
    ra: record.ra,
    dec: record.dec,
    band: record.band,
    mag: record.mag,
    magErr: record.magErr,
    roid: record.roid,
    label: record.label,
    ndet: record.ndet,
    nlim: record.nlim,
    firstJd: record.firstJd,
    lastJd: record.lastJd,
    peakMag: record.peakMag,
    colorGr: record.colorGr,
    rate: record.rate,
    rising: record.rising,
    ssName: record.ssName,
  }).toEqual({
    survey: row.survey,
    alertId: row.alertId,
    objectId: row.objectId,
    jd: row.jd,
    ra: row.ra,
    dec: row.dec,
    band: row.band,
    mag: nan(row.mag),
    magErr: nan(row.magErr),
    roid: row.roid,
    label: row.label,
    ndet: row.ndet,
    nlim: row.nlim,
    firstJd: row.firstJd,
    lastJd: row.lastJd,
    peakMag: nan(row.peakMag),
    colorGr: nan(row.colorGr),
    rate: nan(row.rate),
    rising: row.rising,
    ssName: row.ssName,
  });
  expect(record.crossmatches).toEqual(
    enriched.crossmatches.map((m) => ({ catalog: m.catalog, type: m.type ?? '' })),
  );
  expect(record.watchlists).toEqual(['w1']);
}

describe('filterRecordFromScience', () => {
  it('reads every real ZTF alert as the alerts table stores it', () => {
    const alerts = realZtfAlerts();
    expect(alerts.length).toBeGreaterThan(500);
    // Real histories have upper limits in both bands: nlim sums them.
    expect(alerts.some(({ alert }) => alert.points.some((p) => p.kind === 'upper-limit'))).toBe(true);
    alerts.forEach(({ alert }, i) => expectSameFields(enrich(alert, i)));
  });

  it('reads every real Rubin alert as the alerts table stores it', async () => {
    const schema = loadRubinSchema(sharedPath('datasim', 'lsst', 'schema', '10', '0'));
    const records = await readRubinParquet(sharedPath('datasim', 'lsst', 'rubin-2026-01-v10_0.parquet'), {
      schema,
    });
    expect(records).toHaveLength(25);
    // Rubin has bands beyond g and r, which the distributed lc_features leave out: ndet and rate count them.
    const alerts = records.map((record) => rubinToAlert(record, schema.json));
    expect(alerts.some((alert) => alert.points.some((p) => !['g', 'r'].includes(p.band)))).toBe(true);
    alerts.forEach((alert, i) => expectSameFields(enrich(alert, i)));
  });
});
