import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { readAvroContainer, writeAvroContainer } from '../../src/pipeline/decode/avro-container.ts';
import {
  ZtfDecodeError,
  createZtfDecoder,
  encodeZtfAlert,
  parseAlertSchema,
} from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert, ZtfDecodeErrorReason, ZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { checkAlertBounds } from '../../src/pipeline/decode/bounds.ts';
import { longestStringOf } from '../../src/pipeline/decode/string-lengths.ts';
import { ztfToAlert } from '../../src/pipeline/decode/ztf-alert.ts';

const ZTF_DIR = path.join(loadConfig().sharedDir, 'datasim', 'ztf');
const TWO_POW_53 = 2n ** 53n;

interface RealAlert {
  /** 2020-01 or 2023-10 */
  night: string;
  file: string;
  bytes: Buffer;
  alert: ZtfAlert;
}

function reasonOf(fn: () => unknown): ZtfDecodeErrorReason | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ZtfDecodeError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('createZtfDecoder on the real alerts', () => {
  let decoder: ZtfDecoder;
  let alerts: RealAlert[];
  const find = (night: string, file: string): RealAlert => {
    const found = alerts.find((a) => a.night === night && a.file === file);
    if (found === undefined) throw new Error(`${night}/${file} is not in ${ZTF_DIR}`);
    return found;
  };

  beforeAll(() => {
    decoder = createZtfDecoder();
    alerts = [];
    for (const night of readdirSync(ZTF_DIR).sort()) {
      for (const file of readdirSync(path.join(ZTF_DIR, night)).sort()) {
        const bytes = readFileSync(path.join(ZTF_DIR, night, file));
        alerts.push({ night, file, bytes, alert: decoder.decode(bytes) });
      }
    }
  });

  it('decodes all 611 alerts: 50 with schema 3.3 and 561 with 4.02', () => {
    expect(alerts).toHaveLength(611);
    const v33 = alerts.filter((a) => a.alert.schemavsn === '3.3');
    expect(v33).toHaveLength(50);
    expect(v33.every((a) => a.night === '2020-01')).toBe(true);
    expect(alerts.filter((a) => a.alert.schemavsn === '4.02')).toHaveLength(561);
  });

  it('keeps candid exact: a bigint equal to the file name (2020-01) and to candidate.candid', () => {
    for (const { night, file, alert } of alerts) {
      expect(typeof alert.candid).toBe('bigint');
      expect(alert.candid).toBeGreaterThan(TWO_POW_53);
      expect(alert.candidate.candid).toBe(alert.candid);
      // 2020-01 files are named by candid; the 2023-10 ones are Spark part files, but the cutout names carry it.
      if (night === '2020-01') expect(alert.candid).toBe(BigInt(path.basename(file, '.avro')));
      expect(alert.cutoutScience?.fileName).toContain(`candid${alert.candid}_`);
    }
  });

  it('gives every alert a ZTF objectId, a candidate and three gzipped cutouts', () => {
    for (const { alert } of alerts) {
      expect(alert.objectId).toMatch(/^ZTF\d{2}[a-z]{7}$/);
      expect(typeof alert.candidate.jd).toBe('number');
      expect(Array.isArray(alert.prv_candidates)).toBe(true);
      for (const cutout of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
        expect(cutout?.stampData.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      }
    }
  });

  it('decodes a 3.3 alert field for field as fastavro does', () => {
    const { alert } = find('2020-01', '1095578115815010001.avro');
    expect(alert.objectId).toBe('ZTF20aabaesm');
    expect(alert.publisher).toBe('ZTF (www.ztf.caltech.edu)');
    expect(alert.candidate).toMatchObject({
      jd: 2458850.0781134,
      fid: 2,
      pid: 1095578115815n,
      ra: 197.590032,
      dec: 7.3576394,
      magpsf: 14.575114250183105,
      sigmapsf: 0.08323416113853455,
      rb: 0.2914285659790039,
      drb: 0.003386650001630187,
      isdiffpos: 'f',
      ssnamenr: 'null', // ZTF's "no solar-system object", as a string
      objectidps1: 116831975881272569n, // > 2^53: exact only as a bigint
      field: 475,
      rcid: 58,
      tblid: 1n,
    });
    expect(alert.prv_candidates).toHaveLength(2);
    expect(alert.prv_candidates?.[0]).toMatchObject({
      jd: 2458835.9826736,
      candid: null,
      diffmaglim: 18.885799407958984,
    });
    expect(alert.cutoutScience?.stampData).toHaveLength(12858);
  });

  it('decodes a 4.02 alert of a known asteroid as fastavro does', () => {
    const { alert } = find('2023-10', 'part-00000-d94c2a1f-a3f3-4655-b60e-415889b244b9-c000.avro');
    expect(alert.objectId).toBe('ZTF23ablihmt');
    expect(alert.candid).toBe(2481329603715015008n);
    expect(alert.candidate).toMatchObject({
      ssnamenr: '223073',
      ssdistnr: 0,
      ssmagnr: 19.399999618530273,
      magpsf: 19.806079864501953,
      ra: 341.3210966,
      dec: -1.3022839,
      objectidps1: 106443413235763322n,
      pid: 2481329603715n,
    });
    expect(alert.prv_candidates).toHaveLength(18);
    expect(alert.prv_candidates?.every((p) => p.candid === null)).toBe(true);
  });

  it('parses each distinct writer schema once', () => {
    expect(decoder.parsedSchemas).toBe(2);
    for (const { bytes } of alerts.slice(0, 100)) decoder.decode(bytes);
    expect(decoder.parsedSchemas).toBe(2);
  });

  it('needs the default fix: avsc rejects the 3.3 schema as published', () => {
    const schemaJson = readAvroContainer(find('2020-01', '1095578115815010001.avro').bytes).schemaJson;
    expect(() => avsc.Type.forSchema(JSON.parse(schemaJson) as avsc.Schema)).toThrow(/default/);
    expect(() => parseAlertSchema(schemaJson)).not.toThrow();
  });

  it.each([
    ['3.3', '2020-01', '1095578115815010001.avro'],
    ['4.02', '2023-10', 'part-00000-d94c2a1f-a3f3-4655-b60e-415889b244b9-c000.avro'],
  ])('re-encodes a %s alert to a container that decodes to the same alert', (_version, night, file) => {
    const { bytes, alert } = find(night, file);
    const schemaJson = readAvroContainer(bytes).schemaJson;
    const encoded = encodeZtfAlert(alert, schemaJson);
    expect(readAvroContainer(encoded).schemaJson).toBe(schemaJson);
    expect(createZtfDecoder().decode(encoded)).toEqual(alert);
  });
});

describe('createZtfDecoder measures the strings it reads', () => {
  const file = path.join(ZTF_DIR, '2023-10', 'part-00000-d94c2a1f-a3f3-4655-b60e-415889b244b9-c000.avro');

  /** The longest string value anywhere in a record, by walking it. */
  function longestByWalk(value: unknown): number {
    if (typeof value === 'string') return value.length;
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return 0;
    return Math.max(0, ...Object.values(value).map(longestByWalk));
  }

  it('records the longest string of every real alert, as a walk finds it', () => {
    const decoder = createZtfDecoder();
    for (const night of readdirSync(ZTF_DIR).sort()) {
      for (const name of readdirSync(path.join(ZTF_DIR, night))) {
        const alert = decoder.decode(readFileSync(path.join(ZTF_DIR, night, name)));
        expect(longestStringOf(alert)).toBe(longestByWalk(alert));
      }
    }
  });

  it('lets the bounds check find a long string in the history, with its path, and pass the others', () => {
    const real = readFileSync(file);
    const { schemaJson } = readAvroContainer(real);
    const decoder = createZtfDecoder();
    const alert = decoder.decode(real);
    const prv = alert.prv_candidates ?? [];
    expect(prv.length).toBeGreaterThan(1);
    const long = prv.map((entry, i) => (i === 1 ? { ...entry, programpi: 'p'.repeat(1025) } : entry));
    const decoded = decoder.decodeWithSchema(encodeZtfAlert({ ...alert, prv_candidates: long }, schemaJson));
    expect(longestStringOf(decoded.alert)).toBe(1025);
    const checked = checkAlertBounds(ztfToAlert(decoded.alert, decoded.schemaJson));
    expect(checked).toMatchObject({ kind: 'rejected', reason: 'string-too-long' });
    expect(checked.kind === 'rejected' && checked.detail).toContain('prv_candidates[1].programpi is longer');
    const fine = decoder.decodeWithSchema(real);
    expect(checkAlertBounds(ztfToAlert(fine.alert, fine.schemaJson)).kind).toBe('ok');
  });

  const long = 'K'.repeat(1025);
  it.each([
    ['an enum (its symbols are not read as strings)', { type: 'enum', name: 'Kind', symbols: [long] }],
    ['a string written {"type": "string"} (avsc makes it a plain string type)', { type: 'string' }],
  ])('leaves a record whose schema has %s unmeasured: the bounds check walks it', (_what, fieldType) => {
    const real = readFileSync(file);
    const schema = JSON.parse(readAvroContainer(real).schemaJson) as {
      fields: { name: string; type: unknown }[];
    };
    const candidate = schema.fields.find((field) => field.name === 'candidate')!;
    const record = (
      Array.isArray(candidate.type) ? candidate.type.find((t) => typeof t === 'object') : candidate.type
    ) as {
      fields: unknown[];
    };
    record.fields.push({ name: 'kind', type: fieldType });
    const schemaJson = JSON.stringify(schema);
    const alert = createZtfDecoder().decode(real);
    const encoded = encodeZtfAlert({ ...alert, candidate: { ...alert.candidate, kind: long } }, schemaJson);
    const decoded = createZtfDecoder().decodeWithSchema(encoded);
    expect(longestStringOf(decoded.alert)).toBeUndefined();
    const checked = checkAlertBounds(ztfToAlert(decoded.alert, decoded.schemaJson));
    expect(checked.kind === 'rejected' && checked.detail).toContain('candidate.kind is longer');
  });
});

describe('createZtfDecoder on bad messages', () => {
  const file = path.join(ZTF_DIR, '2023-10', 'part-00000-d94c2a1f-a3f3-4655-b60e-415889b244b9-c000.avro');
  let real: Buffer;
  let schemaJson: string;
  let alert: ZtfAlert;

  beforeAll(() => {
    real = readFileSync(file);
    schemaJson = readAvroContainer(real).schemaJson;
    alert = createZtfDecoder().decode(real);
  });

  it('reports container problems with the container reason', () => {
    const decoder = createZtfDecoder();
    expect(reasonOf(() => decoder.decode(real.subarray(0, real.length / 2)))).toBe('truncated');
    expect(reasonOf(() => decoder.decode(Buffer.from('not an alert')))).toBe('not-avro-container');
  });

  it('rejects a container with no alert or with two', () => {
    const decoder = createZtfDecoder();
    const datum = readAvroContainer(real).blocks[0]?.data ?? Buffer.alloc(0);
    expect(reasonOf(() => decoder.decode(writeAvroContainer(schemaJson, [])))).toBe('not-one-alert');
    expect(reasonOf(() => decoder.decode(writeAvroContainer(schemaJson, [datum, datum])))).toBe(
      'not-one-alert',
    );
  });

  it('rejects a schema that is not valid Avro, parsing it only once', () => {
    const decoder = createZtfDecoder();
    const bad = writeAvroContainer(
      '{"type": "record", "name": "x", "fields": [{"name": "a", "type": "nope"}]}',
      [],
    );
    expect(reasonOf(() => decoder.decode(bad))).toBe('invalid-schema');
    expect(reasonOf(() => decoder.decode(bad))).toBe('invalid-schema');
    expect(reasonOf(() => decoder.decode(writeAvroContainer('not json', [])))).toBe('invalid-schema');
    expect(decoder.parsedSchemas).toBe(2);
  });

  it.each(['objectId', 'candid'] as const)('rejects an alert whose %s is null', (field) => {
    const encoded = encodeZtfAlert({ ...alert, [field]: null }, schemaJson);
    expect(reasonOf(() => createZtfDecoder().decode(encoded))).toBe('missing-field');
  });

  it('rejects an alert whose candidate.jd is null', () => {
    const broken = { ...alert, candidate: { ...alert.candidate, jd: null } } as unknown as ZtfAlert;
    expect(reasonOf(() => createZtfDecoder().decode(encodeZtfAlert(broken, schemaJson)))).toBe(
      'missing-field',
    );
  });

  it('drops null prv_candidates entries, which the 4.02 schema allows', () => {
    const first = alert.prv_candidates?.[0];
    const withNulls = { ...alert, prv_candidates: [null, first, null] } as unknown as ZtfAlert;
    const decoded = createZtfDecoder().decode(encodeZtfAlert(withNulls, schemaJson));
    expect(decoded.prv_candidates).toEqual([first]);
  });

  it('refuses to encode an alert that does not fit the schema, naming the field', () => {
    const broken = { ...alert, candidate: { ...alert.candidate, pid: 12 } } as unknown as ZtfAlert;
    expect(() => encodeZtfAlert(broken, schemaJson)).toThrow(/candidate\.pid/);
  });
});
