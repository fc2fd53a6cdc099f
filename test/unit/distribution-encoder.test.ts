import { readFileSync } from 'node:fs';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAvroContainerHeader } from '../../src/pipeline/decode/avro-container.ts';
import { BIGINT_LONG } from '../../src/pipeline/decode/bigint-long.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import {
  DISTRIBUTION_FIELD_NAMES,
  brokerPackageVersion,
  createDistributionEncoder,
  decodeDistributionMessage,
} from '../../src/pipeline/encode/distribution.ts';
import type { DistributionEnrichment, FinkFields } from '../../src/pipeline/encode/distribution.ts';
import { ztfAlertFiles } from '../helpers/shared-data.ts';

interface RealAlert {
  writerSchemaJson: string;
  alert: ZtfAlert;
}

const MODEL = {
  modelFile: 'snn_models/snn_snia_vs_nonia/model.pt',
  modelSha256: 'ef'.repeat(32),
  finkScienceVersion: '7.4.0',
};

const FINK: FinkFields = {
  cdsxmatch: 'Unknown',
  DR3Name: null,
  Plx: null,
  e_Plx: null,
  gcvs: 'EA',
  vsx: 'Unknown',
  rf_snia_vs_nonia: 0,
  snn_snia_vs_nonia: 0.87,
  snn_sn_vs_all: 0.25,
  mulens: 0,
  nalerthist: 7,
  rf_kn_vs_nonkn: null,
  fink_science_version: '7.4.0',
};

const ENRICHMENT: DistributionEnrichment = {
  fink: FINK,
  finkclass: 'SN candidate',
  roid: 0,
  ssname: null,
  crossmatches: [
    { catalog: 'gcvs', sourceId: 'V0417 Cyg', distanceArcsec: 0.83, type: 'EA' },
    { catalog: 'simbad', sourceId: 'Gaia DR3 2063452876012364416', distanceArcsec: 1.2, type: null },
  ],
  classifierScores: [
    { classifier: 'snn_snia_vs_nonia', version: '7.4.0', score: 0.87, ...MODEL },
    {
      classifier: 'heuristic_kilonova',
      version: '1.0.0',
      score: null,
      modelFile: '',
      modelSha256: '',
      finkScienceVersion: '',
    },
  ],
  lcFeatures: {
    ndetG: 3,
    ndetR: 5,
    nlimG: 1,
    nlimR: 0,
    peakMagG: 18.52,
    peakMagR: 18.1,
    lastMagG: 18.9,
    lastMagR: 18.3,
    colorGR: 0.6,
    rateG: 0.05,
    rateR: -0.02,
    durationDays: 12.5,
    rising: false,
  },
  processedAt: 1_700_000_000_123,
};

const SSO_ENRICHMENT: DistributionEnrichment = {
  fink: {
    ...FINK,
    cdsxmatch: null,
    gcvs: null,
    vsx: null,
    rf_snia_vs_nonia: null,
    snn_snia_vs_nonia: null,
    snn_sn_vs_all: null,
    mulens: null,
    nalerthist: null,
    fink_science_version: null,
  },
  finkclass: 'Solar System MPC',
  roid: 3,
  ssname: '12345',
  crossmatches: [],
  classifierScores: [],
  lcFeatures: null,
  processedAt: 1_700_000_000_999,
};

/** A small schema whose longs sit at the edges of the 64-bit range. */
const LONGS_SCHEMA = JSON.stringify({
  type: 'record',
  name: 'test.alert',
  fields: [
    { name: 'objectId', type: 'string' },
    { name: 'candid', type: 'long' },
    { name: 'others', type: { type: 'array', items: 'long' } },
    { name: 'maybe', type: ['null', 'long'], default: null },
  ],
});

describe('createDistributionEncoder', () => {
  let v33: RealAlert[];
  let v402: RealAlert[];

  beforeAll(() => {
    const decoder = createZtfDecoder();
    const load = (file: string): RealAlert => {
      const bytes = readFileSync(file);
      return {
        writerSchemaJson: readAvroContainerHeader(bytes).schemaBytes.toString('utf8'),
        alert: decoder.decode(bytes),
      };
    };
    const files = ztfAlertFiles();
    v33 = files
      .filter((file) => file.includes('2020-01'))
      .slice(0, 3)
      .map(load);
    v402 = files
      .filter((file) => file.includes('2023-10'))
      .slice(0, 3)
      .map(load);
  });

  it.each([
    ['3.3', () => v33],
    ['4.02', () => v402],
  ])('round-trips real ZTF %s alerts with their enrichment', (version, alerts) => {
    const encoder = createDistributionEncoder({ brokerVersion: 'test-1.2.3' });
    for (const [i, { writerSchemaJson, alert }] of alerts().entries()) {
      expect(alert.schemavsn).toBe(version);
      const enrichment = i % 2 === 0 ? ENRICHMENT : SSO_ENRICHMENT;
      const { key, value } = encoder.encode({ writerSchemaJson, record: alert, enrichment });

      const decoded = decodeDistributionMessage(key, value);
      expect(decoded.record).toEqual(alert);
      expect(decoded.record.candid).toBe(alert.candid);
      expect(decoded.enrichment).toEqual(enrichment);
      expect(decoded.brokerVersion).toBe('test-1.2.3');
      expect(decoded.schemaJson).toBe(key.toString('utf8'));
    }
  });

  it.each([
    ['3.3', () => v33],
    ['4.02', () => v402],
  ])('keys %s alerts with the output schema: survey fields, then the broker fields', (_version, alerts) => {
    const { writerSchemaJson, alert } = alerts()[0]!;
    const { key } = createDistributionEncoder().encode({
      writerSchemaJson,
      record: alert,
      enrichment: ENRICHMENT,
    });
    const schema = JSON.parse(key.toString('utf8')) as { name: string; fields: { name: string }[] };
    const surveyFields = (JSON.parse(writerSchemaJson) as { fields: { name: string }[] }).fields.map(
      (f) => f.name,
    );
    expect(schema.fields.map((f) => f.name)).toEqual([...surveyFields, ...DISTRIBUTION_FIELD_NAMES]);
    // Its own name, the survey's namespace.
    expect(schema.name).toMatch(/(^|\.)fink_[A-Za-z]+$/);
    // A strict parser takes it as is: ZTF 3.3's union defaults that do not match the first branch are gone.
    expect(() => avsc.Type.forSchema(schema as avsc.Schema)).not.toThrow();
  });

  it("carries Fink's fields with Fink's names, order and types (fink-client's distribution schema 2.7)", () => {
    // schemas/distribution_schema_fink_ztf_2.7_3.10.1.avsc of astrolabsoftware/fink-client: the fields Fink
    // appends to the ZTF alert, in its order, each a union with null listed second and no default.
    const fink = [
      ['cdsxmatch', 'string'],
      ['DR3Name', 'string'],
      ['Plx', 'float'],
      ['e_Plx', 'float'],
      ['gcvs', 'string'],
      ['vsx', 'string'],
      ['roid', 'int'],
      ['rf_snia_vs_nonia', 'double'],
      ['snn_snia_vs_nonia', 'double'],
      ['snn_sn_vs_all', 'double'],
      ['mulens', 'double'],
      ['nalerthist', 'int'],
      ['rf_kn_vs_nonkn', 'double'],
      ['fink_broker_version', 'string'],
      ['fink_science_version', 'string'],
    ];
    const { writerSchemaJson, alert } = v402[0]!;
    const { key, value } = createDistributionEncoder({ brokerVersion: '0.1.0' }).encode({
      writerSchemaJson,
      record: alert,
      enrichment: ENRICHMENT,
    });
    const schema = JSON.parse(key.toString('utf8')) as { fields: { name: string; type: unknown }[] };
    const surveyCount = (JSON.parse(writerSchemaJson) as { fields: unknown[] }).fields.length;
    const added = schema.fields.slice(surveyCount, surveyCount + fink.length);
    expect(added.map((f) => [f.name, f.type])).toEqual(fink.map(([name, type]) => [name, [type, 'null']]));
    // A plain reader of the schema (fastavro in fink-client, avsc here) sees Fink's values by Fink's names.
    const datum = avsc.Type.forSchema(schema as avsc.Schema, {
      wrapUnions: false,
      registry: { long: BIGINT_LONG },
    }).fromBuffer(value) as Record<string, unknown>;
    expect(datum).toMatchObject({
      cdsxmatch: 'Unknown',
      DR3Name: null,
      Plx: null,
      gcvs: 'EA',
      vsx: 'Unknown',
      roid: 0,
      snn_snia_vs_nonia: 0.87,
      snn_sn_vs_all: 0.25,
      rf_kn_vs_nonkn: null,
      nalerthist: 7,
      fink_broker_version: '0.1.0',
      fink_science_version: '7.4.0',
    });
  });

  it('builds the output schema once per writer schema and reuses its key', () => {
    const encoder = createDistributionEncoder();
    const keys = new Set<Buffer>();
    for (const { writerSchemaJson, alert } of [...v33, ...v402, ...v33]) {
      keys.add(encoder.encode({ writerSchemaJson, record: alert, enrichment: ENRICHMENT }).key);
    }
    expect(encoder.builtSchemas).toBe(2);
    expect(keys.size).toBe(2);
    expect(encoder.outputSchemaJson(v33[0]!.writerSchemaJson)).toBe([...keys][0]!.toString('utf8'));
    expect(encoder.builtSchemas).toBe(2);
  });

  it.each([
    ['2^53 + 1', 2n ** 53n + 1n],
    ['int64 max', 2n ** 63n - 1n],
    ['int64 min', -(2n ** 63n)],
    ['a real candid', 2481454725615015032n],
  ])('keeps 64-bit longs exact: %s', (_name, id) => {
    const record = { objectId: 'ZTF23abcdefg', candid: id, others: [id, 0n, id], maybe: id };
    const { key, value } = createDistributionEncoder().encode({
      writerSchemaJson: LONGS_SCHEMA,
      record,
      enrichment: ENRICHMENT,
    });
    expect(decodeDistributionMessage(key, value).record).toEqual(record);
  });

  it('writes processed_at as timestamp-millis and this package version by default', () => {
    const { key, value } = createDistributionEncoder().encode({
      writerSchemaJson: LONGS_SCHEMA,
      record: { objectId: 'x', candid: 1n, others: [], maybe: null },
      enrichment: ENRICHMENT,
    });
    const schema = JSON.parse(key.toString('utf8')) as { fields: { name: string; type: unknown }[] };
    expect(schema.fields.find((f) => f.name === 'processed_at')?.type).toEqual({
      type: 'long',
      logicalType: 'timestamp-millis',
    });
    const decoded = decodeDistributionMessage(key, value);
    expect(decoded.enrichment.processedAt).toBe(ENRICHMENT.processedAt);
    expect(decoded.brokerVersion).toBe(brokerPackageVersion());
    expect(brokerPackageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [
      'a schema that already has a broker field',
      JSON.stringify({ type: 'record', name: 'a', fields: [{ name: 'finkclass', type: 'string' }] }),
      /finkclass/,
    ],
    ['a schema that is not a record', JSON.stringify({ type: 'array', items: 'long' }), /record/],
  ])('refuses %s', (_name, writerSchemaJson, message) => {
    expect(() =>
      createDistributionEncoder().encode({ writerSchemaJson, record: {}, enrichment: ENRICHMENT }),
    ).toThrow(message);
  });

  it.each([
    ['a fractional processedAt', { ...ENRICHMENT, processedAt: 1.5 }, /processedAt/],
    ['a roid that is not an int', { ...ENRICHMENT, roid: 2.5 }, /roid/],
    [
      'a crossmatch without distance',
      {
        ...ENRICHMENT,
        crossmatches: [
          { catalog: 'gcvs', sourceId: 'x', distanceArcsec: null as unknown as number, type: null },
        ],
      },
      /crossmatches/,
    ],
  ])('refuses %s, naming the field', (_name, enrichment, message) => {
    expect(() =>
      createDistributionEncoder().encode({
        writerSchemaJson: LONGS_SCHEMA,
        record: { objectId: 'x', candid: 1n, others: [], maybe: null },
        enrichment,
      }),
    ).toThrow(message);
  });

  it('refuses a value that does not belong to its key', () => {
    const encoder = createDistributionEncoder();
    const record = { objectId: 'x', candid: 1n, others: [], maybe: null };
    const { key, value } = encoder.encode({ writerSchemaJson: LONGS_SCHEMA, record, enrichment: ENRICHMENT });
    expect(() => decodeDistributionMessage(key, Buffer.concat([value, Buffer.from([0])]))).toThrow();
    expect(() => decodeDistributionMessage(key, value.subarray(0, value.length - 3))).toThrow();
    expect(() => decodeDistributionMessage(LONGS_SCHEMA, value)).toThrow(/processed_at/);
  });
});
