// Stored alerts -> Fink's flat rows: i: columns from the candidate record with ZTF's types, d: scores and
// counterparts, v: values, and the extra rows of withupperlim.
import { describe, expect, it } from 'vitest';
import type {
  AlertRecord,
  ClassificationRecord,
  CrossmatchRecord,
} from '../../../src/storage/alert-store.ts';
import { alertTable, withUpperLimits } from '../../../src/server/rest/fink-rows.ts';
import { ZTF_CANDIDATE_COLUMNS } from '../../../src/server/rest/fink-columns.ts';
import { toJson } from '../../../src/export/encoders.ts';

const CANDID = 2890466950515015016n;

function alert(alertId: bigint, jd: number, overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    survey: 'ztf',
    alertId,
    objectId: 'ZTF21abfmbix',
    jd,
    night: '2021-06-10',
    ra: 193.8,
    dec: 2.9,
    band: 'g',
    mag: 18.5,
    magErr: 0.1,
    roid: 0,
    ssName: '',
    label: 'SN candidate',
    ndet: 3,
    nlim: 1,
    firstJd: 2459370.5,
    lastJd: jd,
    peakMag: 18.2,
    colorGr: 0.3,
    rate: -0.1,
    rising: true,
    features: '{}',
    candidate: JSON.stringify({ jd, fid: 1, candid: alertId.toString(), magpsf: 18.5, isdiffpos: 't' }),
    processedAt: new Date(0),
    ...overrides,
  };
}

function score(alertId: bigint, classifier: string, value: number | null): ClassificationRecord {
  return {
    alertId,
    objectId: 'ZTF21abfmbix',
    jd: 0,
    classifier,
    version: '1',
    label: '',
    score: value,
    processedAt: new Date(0),
    modelFile: '',
    modelSha256: '',
    finkScienceVersion: '',
  };
}

function match(alertId: bigint, catalog: string, type: string, distanceArcsec: number): CrossmatchRecord {
  return {
    alertId,
    objectId: 'ZTF21abfmbix',
    jd: 0,
    catalog,
    sourceId: `${catalog}-1`,
    distanceArcsec,
    type,
  };
}

describe('alertTable', () => {
  const table = alertTable({
    alerts: [alert(CANDID - 1n, 2459375.5), alert(CANDID, 2459376.5)],
    classifications: [
      score(CANDID, 'snn_snia_vs_nonia', 0.8),
      score(CANDID, 'fink', null),
      score(CANDID - 1n, 'mulens', 0.1),
    ],
    crossmatches: [match(CANDID, 'gcvs', 'RRAB', 1.2), match(CANDID, 'vsx', '', 0.5)],
    catalogs: [
      { name: 'gcvs', overriding: true },
      { name: 'vsx', overriding: false },
    ],
  });

  it('orders rows newest first with the candid exact and ZTF-typed columns', () => {
    expect(table.rows.map((row) => row['i:candid'])).toEqual([CANDID, CANDID - 1n]);
    const candid = table.columns.find((column) => column.name === 'i:candid');
    expect(candid).toMatchObject({ type: 'long', ucd: 'meta.id' });
    expect(table.columns.find((column) => column.name === 'i:jd')).toMatchObject({
      type: 'double',
      unit: 'd',
      ucd: 'time.epoch',
    });
    expect(table.columns.find((column) => column.name === 'i:magpsf')).toMatchObject({
      type: 'float',
      unit: 'mag',
    });
    // Every ZTF field is a column, even one absent from these records.
    expect(table.columns.length).toBeGreaterThanOrEqual(ZTF_CANDIDATE_COLUMNS.length);
  });

  it('adds the scores (not the label row), the counterparts and the derived values', () => {
    const names = table.columns.map((column) => column.name);
    expect(names).toContain('d:snn_snia_vs_nonia');
    expect(names).toContain('d:mulens');
    expect(names).not.toContain('d:fink');
    // Fink's ZTF scores are columns even without a row that has them.
    expect(names).toContain('d:rf_kn_vs_nonkn');
    const [newest, older] = table.rows;
    expect(newest!['d:snn_snia_vs_nonia']).toBe(0.8);
    expect(newest!['d:mulens']).toBeUndefined();
    expect(older!['d:mulens']).toBe(0.1);
    // cdsxmatch: the type of the nearest counterpart of an overriding catalogue.
    expect(newest!['d:cdsxmatch']).toBe('RRAB');
    expect(older!['d:cdsxmatch']).toBe('Unknown');
    // A catalogue column: the type, else the source id, else Unknown.
    expect(newest!['d:gcvs']).toBe('RRAB');
    expect(newest!['d:vsx']).toBe('vsx-1');
    expect(older!['d:vsx']).toBe('Unknown');
    expect(newest!['v:classification']).toBe('SN candidate');
    expect(newest!['v:lapse']).toBe(6);
    expect(newest!['v:firstdate']).toBe('2021-06-05 00:00:00.000');
  });
});

describe('Rubin rows', () => {
  it('types the diaSource fields from their values: ids long (exact), numbers double', () => {
    const id = 3456789012345678901n;
    const table = alertTable({
      alerts: [
        alert(id, 2460500.5, {
          survey: 'lsst',
          objectId: '1234567890123456789',
          candidate: JSON.stringify({
            diaSourceId: id.toString(),
            midpointMjdTai: 60500.0,
            ra: 10.5,
            band: 'g',
          }),
        }),
      ],
      classifications: [],
      crossmatches: [],
      catalogs: [],
    });
    const byName = new Map(table.columns.map((column) => [column.name, column]));
    expect(byName.get('i:diaSourceId')).toMatchObject({ type: 'long', ucd: 'meta.id' });
    expect(byName.get('i:midpointMjdTai')).toMatchObject({ type: 'double', unit: 'd', ucd: 'time.epoch' });
    expect(byName.get('i:ra')).toMatchObject({ type: 'double', unit: 'deg' });
    expect(byName.get('i:band')).toMatchObject({ type: 'string' });
    expect(byName.has('i:candid')).toBe(false);
    expect(table.rows[0]!['i:diaSourceId']).toBe(id.toString());
    expect(table.alertIds).toEqual([id]);
    expect(toJson(table)).toContain(`"i:diaSourceId":${id}`);
  });
});

describe('withUpperLimits', () => {
  it('tags alerts valid, limits upperlim and detections without an alert badquality, newest first', () => {
    const table = alertTable({
      alerts: [alert(CANDID, 2459376.5)],
      classifications: [],
      crossmatches: [],
      catalogs: [],
    });
    const point = {
      objectId: 'ZTF21abfmbix',
      band: 'r',
      mag: null,
      magErr: null,
      limitMag: 20.1,
      flux: null,
      fluxErr: null,
      negative: false,
      dcMag: null,
      dcMagErr: null,
      sourceId: null,
    };
    const result = withUpperLimits(table, [
      { ...point, jd: 2459374.5, kind: 'upper-limit' },
      { ...point, jd: 2459375.5, kind: 'detection', mag: 19, magErr: 0.2, negative: true, sourceId: 5n },
      { ...point, jd: 2459376.5, kind: 'detection', mag: 18.5, magErr: 0.1 },
      { ...point, jd: 2459377.5, kind: 'forced' },
    ]);
    expect(result.rows.map((row) => [row['i:jd'], row['d:tag'], row['i:candid']])).toEqual([
      [2459376.5, 'valid', CANDID],
      [2459375.5, 'badquality', -1n],
      [2459374.5, 'upperlim', -1n],
    ]);
    expect(result.rows[1]).toMatchObject({ 'i:magpsf': 19, 'i:isdiffpos': 'f', 'i:fid': 2 });
    expect(result.rows[2]).toMatchObject({ 'i:diffmaglim': 20.1 });
    expect(result.columns.at(-1)!.name).toBe('d:tag');
  });
});
