// The science topic carries the one record per alert: what raw2science computed is what every reader decodes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeScienceRecord,
  encodeScienceRecord,
  RECORD_HEADER,
  SCIENCE_RECORD_SCHEMA_FILE,
  ScienceRecordError,
} from '../../src/pipeline/encode/science-record.ts';
import { toScienceRecord, type EnrichedAlert } from '../../src/pipeline/services/science-rows.ts';
import { computeLightCurveFeatures } from '../../src/pipeline/steps/features.step.ts';
import type { Alert } from '../../src/pipeline/alert.ts';
import { NO_MODEL } from '../../src/pipeline/classifiers/classifier.ts';
import { ALERTS, type ScienceRecord } from '../../src/storage/science-store.ts';
import { realRubinAlerts, realZtfAlerts } from '../helpers/alerts.ts';

const message = {
  topic: 'ztf',
  partition: 3,
  offset: '12345',
  key: null,
  value: null,
  headers: {},
  timestamp: 0,
  receivedAt: 0,
};

function record(alert: EnrichedAlert): ScienceRecord {
  return toScienceRecord({ alert, message }, new Date(1_700_000_000_500), '0.1.0');
}

function enrich(alert: Alert, i: number): EnrichedAlert {
  return {
    ...alert,
    roid: (i % 4) as 0 | 1 | 2 | 3,
    ssName: i % 4 === 3 ? `sso ${i}` : null,
    crossmatches:
      i % 3 === 0
        ? [
            {
              catalog: 'gcvs',
              sourceId: `V${i}`,
              distanceArcsec: 0.5,
              type: i % 2 ? 'EA' : null,
              overriding: true,
            },
          ]
        : [],
    features: computeLightCurveFeatures(alert.points),
    classification: {
      label: i % 2 ? 'SN candidate' : 'Unknown',
      scores: [
        {
          classifier: 'snn_sn_vs_all',
          version: '7.4.0',
          score: i % 5 === 0 ? null : 0.25,
          modelFile: 'snn_models/snn_sn_vs_all/model.pt',
          modelSha256: 'ab'.repeat(32),
          finkScienceVersion: '7.4.0',
        },
        { classifier: 'heuristic_kilonova', version: '1.0.0', score: 0.75, ...NO_MODEL },
      ],
    },
    watchlistHits: i % 7 === 0 ? [{ watchlistId: 'w1', targetLabel: 'M31', distanceArcsec: 2.5 }] : [],
  };
}

describe('the science record on the wire', () => {
  it('decodes to what was encoded, for every real ZTF and Rubin alert', async () => {
    const alerts = [...realZtfAlerts().map(({ alert }) => alert), ...(await realRubinAlerts())];
    expect(alerts.length).toBeGreaterThan(600);
    alerts.forEach((alert, i) => {
      const original = record(enrich(alert, i));
      const { key, value, headers } = encodeScienceRecord(original, { 'fink-survey': original.survey });
      expect(key.toString()).toBe(original.objectId);
      expect(headers['fink-survey']).toBe(original.survey);
      expect(decodeScienceRecord(value, headers)).toEqual(original);
    });
  });

  it("carries every score's provenance: model file, its SHA-256, fink-science version", () => {
    const alert = realZtfAlerts()[1]!.alert;
    const original = record(enrich(alert, 1));
    const { value, headers } = encodeScienceRecord(original);
    expect(decodeScienceRecord(value, headers).scores).toEqual([
      {
        classifier: 'snn_sn_vs_all',
        version: '7.4.0',
        score: 0.25,
        modelFile: 'snn_models/snn_sn_vs_all/model.pt',
        modelSha256: 'ab'.repeat(32),
        finkScienceVersion: '7.4.0',
      },
      { classifier: 'heuristic_kilonova', version: '1.0.0', score: 0.75, ...NO_MODEL },
    ]);
  });

  it('is small: no cutouts, no schema', () => {
    const alert = realZtfAlerts()[0]!.alert;
    const { key, value } = encodeScienceRecord(record(enrich(alert, 0)));
    expect(key.length + value.length).toBeLessThan(8_000);
  });

  it('refuses a message of another schema version or one that does not decode', () => {
    const alert = realZtfAlerts()[0]!.alert;
    const { value, headers } = encodeScienceRecord(record(enrich(alert, 0)));
    expect(() => decodeScienceRecord(value, {})).toThrow(ScienceRecordError);
    // Version 1 had scores without their model's provenance: read as version 2, it would misread.
    expect(() => decodeScienceRecord(value, { [RECORD_HEADER]: 'science-record/1' })).toThrow(
      /not a science-record\/2/,
    );
    expect(() => decodeScienceRecord(value.subarray(0, 20), headers)).toThrow(ScienceRecordError);
  });

  it('has a schema field for every column of the alerts table and every list of the record', () => {
    const schema = JSON.parse(readFileSync(SCIENCE_RECORD_SCHEMA_FILE, 'utf8')) as {
      fields: { name: string }[];
    };
    const fields = schema.fields.map((f) => f.name);
    expect(fields).toEqual([
      ...ALERTS.columns.map((c) => c.field),
      'scores',
      'crossmatches',
      'watchlistHits',
      'brokerVersion',
    ]);
  });
});
