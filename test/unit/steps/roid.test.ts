import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/pipeline/alert.ts';
import type { ZtfCandidate, ZtfPrvCandidate } from '../../../src/pipeline/decode/ztf-avro.ts';
import { createRoidStep, ztfRoid, ztfRoidInput, ztfSsName } from '../../../src/pipeline/steps/roid.step.ts';
import type { Roid, RoidFields, ZtfRoidInput } from '../../../src/pipeline/steps/roid.step.ts';
import {
  BASE_JD,
  prvCandidate,
  prvUpperLimit,
  realRubinAlerts,
  realZtfAlerts,
  rubinAlert,
  ztfAlert,
  ztfRecord,
} from '../../helpers/alerts.ts';

const MINUTE = 1 / (24 * 60);
const T = BASE_JD;

/** Not a first detection, a galaxy-like PS1 source far away, no known solar-system object: roid 0. */
function input(overrides: Partial<ZtfRoidInput> = {}): ZtfRoidInput {
  return {
    jd: [T - 3, T],
    magpsf: [18.6, 18.5],
    ndethist: 3,
    sgscore1: 0.9,
    ssdistnr: -999,
    distpsnr1: 12,
    ...overrides,
  };
}

/** A known asteroid as ZTF reports it: 1" from the MPC position, no PS1 source near, seen once. */
const MPC_CANDIDATE = { ssdistnr: 1, distpsnr1: 12, ndethist: 1 };
const MPC = { ...MPC_CANDIDATE, jd: [T], magpsf: [18.5] };

async function run(alert: Alert): Promise<RoidFields> {
  const result = await createRoidStep<Alert>()(alert);
  if (result.kind !== 'ok') throw new Error(`roid rejected the alert: ${result.reason}`);
  return { roid: result.value.roid, ssName: result.value.ssName };
}

describe('ztfRoid: each rule of roid_catcher, in order', () => {
  it.each<[string, Roid, Partial<ZtfRoidInput>]>([
    ['nothing applies', 0, {}],
    // rule 1: first detection
    [
      'ndethist 1, stellar PS1 source (sgscore1 0.9) -> first detection',
      1,
      { ndethist: 1, jd: [T], magpsf: [18] },
    ],
    // rule 2: Fink candidate
    ['ndethist 1, sgscore1 0.5 -> candidate', 2, { ndethist: 1, sgscore1: 0.5, jd: [T], magpsf: [18] }],
    ['sgscore1 0.7599 is below 0.76', 2, { ndethist: 1, sgscore1: 0.7599, jd: [T], magpsf: [18] }],
    ['sgscore1 exactly 0.76 is a star', 1, { ndethist: 1, sgscore1: 0.76, jd: [T], magpsf: [18] }],
    [
      'sgscore1 -999 (no PS1 source) passes < 0.76',
      2,
      { ndethist: 1, sgscore1: -999, distpsnr1: -999, jd: [T], magpsf: [18] },
    ],
    [
      'ndethist 2, both detections 10 min apart in the alert -> candidate',
      2,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 10 * MINUTE, T], magpsf: [18.6, 18.5] },
    ],
    ['ndethist 3 is too many for rule 2', 0, { ndethist: 3, sgscore1: 0.5, jd: [T], magpsf: [18] }],
    // rule 3: a PS1 source within 5"
    ['distpsnr1 3 undoes rule 2', 0, { ndethist: 1, sgscore1: 0.5, distpsnr1: 3, jd: [T], magpsf: [18] }],
    ['distpsnr1 3 undoes rule 1', 0, { ndethist: 1, distpsnr1: 3, jd: [T], magpsf: [18] }],
    [
      'distpsnr1 exactly 5 is not within',
      2,
      { ndethist: 1, sgscore1: 0.5, distpsnr1: 5, jd: [T], magpsf: [18] },
    ],
    [
      'distpsnr1 exactly 0 is not within',
      2,
      { ndethist: 1, sgscore1: 0.5, distpsnr1: 0, jd: [T], magpsf: [18] },
    ],
    // rule 4: two detections in the alert, too far apart
    [
      'two detections 31 min apart undo rule 2',
      0,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 31 * MINUTE, T], magpsf: [18.6, 18.5] },
    ],
    [
      'two detections 29 min apart are kept',
      2,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 29 * MINUTE, T], magpsf: [18.6, 18.5] },
    ],
    [
      'the gap is to the last history entry, here an upper limit 10 min before, not the detection 2 days before',
      2,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 2, T - 10 * MINUTE, T], magpsf: [18.6, null, 18.5] },
    ],
    // rule 5: the other detection is older than the alert's history
    ['ndethist 2 but one detection in the alert', 0, { ndethist: 2, sgscore1: 0.5, jd: [T], magpsf: [18.5] }],
    [
      'ndethist 2, one detection and only upper limits in the alert',
      0,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 1, T], magpsf: [null, 18.5] },
    ],
    // rule 6: known solar-system object
    ['known object 1" away, no PS1 source near', 3, MPC],
    ['known object beats the first-detection flag', 3, { ...MPC, sgscore1: 0.99 }],
    ['known object beats a PS1 source at 3" (farther than the object)', 3, { ...MPC, distpsnr1: 3 }],
    ['no PS1 source at all (distpsnr1 -999): |-999| - 1 > 0', 3, { ...MPC, distpsnr1: -999 }],
    ['PS1 source closer than the known object', 0, { ...MPC, sgscore1: 0.5, ssdistnr: 4, distpsnr1: 3.5 }],
    ['ssdistnr exactly 0', 3, { ...MPC, ssdistnr: 0 }],
    ['ssdistnr exactly 5 is too far', 1, { ...MPC, ssdistnr: 5 }],
    ['ssdistnr -999: no known object searched', 1, { ...MPC, ssdistnr: -999 }],
    [
      'ndethist 5 and 5 detections in the alert',
      3,
      { ...MPC, ndethist: 5, jd: [1, 2, 3, 4, T], magpsf: [18, 18, 18, 18, 18] },
    ],
    ['ndethist 6 is seen too often', 0, { ...MPC, ndethist: 6 }],
    [
      '6 detections in the alert are too many',
      0,
      { ...MPC, ndethist: 5, jd: [1, 2, 3, 4, 5, T], magpsf: [18, 18, 18, 18, 18, 18] },
    ],
    // null (NaN) fields: the rule reading them does not apply
    ['ndethist null', 0, { ndethist: null, sgscore1: 0.5, jd: [T], magpsf: [18] }],
    ['ndethist null blocks the known-object rule', 0, { ...MPC, ndethist: null }],
    [
      'sgscore1 null leaves the first-detection flag',
      1,
      { ndethist: 1, sgscore1: null, jd: [T], magpsf: [18] },
    ],
    ['distpsnr1 null blocks the known-object rule', 1, { ...MPC, distpsnr1: null }],
    [
      'distpsnr1 null does not undo rule 2',
      2,
      { ndethist: 1, sgscore1: 0.5, distpsnr1: null, jd: [T], magpsf: [18] },
    ],
    ['ssdistnr null', 1, { ...MPC, ssdistnr: null }],
    [
      'NaN magnitudes do not count as detections',
      0,
      { ndethist: 2, sgscore1: 0.5, jd: [T - 10 * MINUTE, T], magpsf: [NaN, 18.5] },
    ],
  ])('%s -> %i', (_name, expected, overrides) => {
    expect(ztfRoid(input(overrides))).toBe(expected);
  });
});

describe('ztfRoidInput', () => {
  it("takes the history in the alert's order, then the current measurement", () => {
    const prv: ZtfPrvCandidate[] = [prvCandidate({ jd: T - 2, magpsf: 19 }), prvUpperLimit(T - 1, 20.1)];
    const record = ztfRecord({ candidate: { jd: T, magpsf: 18.5, ndethist: 2, sgscore1: 0.3 }, prv });
    expect(ztfRoidInput(record)).toEqual({
      jd: [T - 2, T - 1, T],
      magpsf: [19, null, 18.5],
      ndethist: 2,
      sgscore1: 0.3,
      ssdistnr: -999,
      distpsnr1: 12,
    });
  });

  it('reads an alert without history (prv_candidates null)', () => {
    const record = ztfRecord({ candidate: { jd: T, magpsf: 18.5 }, prv: null });
    expect(ztfRoidInput(record)).toMatchObject({ jd: [T], magpsf: [18.5] });
  });
});

describe('ztfSsName', () => {
  it.each<[string | null, string | null]>([
    ['12345', '12345'],
    [' 2003 AB12 ', '2003 AB12'],
    ['null', null],
    ['', null],
    [null, null],
  ])('%j -> %j', (ssnamenr, expected) => {
    expect(ztfSsName(ssnamenr)).toBe(expected);
  });
});

describe('createRoidStep', () => {
  it('is a named function', () => {
    expect(createRoidStep().name).toBe('roidCatcher');
  });

  it.each<[string, RoidFields, Partial<ZtfCandidate>]>([
    [
      'a known asteroid gets roid 3 and its name',
      { roid: 3, ssName: '154059' },
      { ...MPC_CANDIDATE, ssnamenr: '154059' },
    ],
    ["roid 3 with ZTF's 'null' name", { roid: 3, ssName: null }, { ...MPC_CANDIDATE, ssnamenr: 'null' }],
    [
      'a name but too far (60") to be the object: no roid 3, no name',
      { roid: 2, ssName: null },
      { ...MPC_CANDIDATE, ssdistnr: 60, ssnamenr: '154059' },
    ],
    ['a first detection', { roid: 1, ssName: null }, { ndethist: 1, sgscore1: 0.9 }],
    ['a Fink candidate', { roid: 2, ssName: null }, { ndethist: 1, sgscore1: 0.2 }],
  ])('ZTF: %s', async (_name, expected, candidate) => {
    expect(await run(ztfAlert({ candidate }))).toEqual(expected);
  });

  it('ZTF: counts the history detections of the record, not just the current one', async () => {
    const candidate = { ...MPC_CANDIDATE, ndethist: 5, ssnamenr: '87805' };
    const prv = [5, 4, 3, 2, 1].map((day) => prvCandidate({ jd: T - day, magpsf: 18 }));
    expect(await run(ztfAlert({ candidate, prv: prv.slice(1) }))).toEqual({ roid: 3, ssName: '87805' });
    expect(await run(ztfAlert({ candidate, prv }))).toEqual({ roid: 0, ssName: null });
  });

  it.each<[string, RoidFields, Record<string, unknown> | null]>([
    ['no ssSource', { roid: 0, ssName: null }, null],
    [
      'an ssSource with a designation',
      { roid: 3, ssName: 'K01S97B' },
      { designation: 'K01S97B', ssObjectId: 7n },
    ],
    [
      'an ssSource without designation: the ssObjectId',
      { roid: 3, ssName: '21163611661088576' },
      {
        designation: null,
        ssObjectId: 21163611661088576n,
      },
    ],
    ['an ssSource with neither', { roid: 3, ssName: null }, {}],
  ])('Rubin: %s', async (_name, expected, ssSource) => {
    expect(await run(rubinAlert({ ssSource }))).toEqual(expected);
  });

  it('keeps every field of the alert', async () => {
    const alert = ztfAlert();
    const result = await createRoidStep<Alert>()(alert);
    expect(result.kind === 'ok' && result.value).toEqual({ ...alert, roid: 2, ssName: null });
  });
});

describe('roid on the 611 real ZTF alerts', () => {
  const counts = new Map<string, number>();
  const add = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);

  beforeAll(async () => {
    const step = createRoidStep<Alert>();
    for (const { night, file, alert } of realZtfAlerts()) {
      const result = await step(alert);
      if (result.kind !== 'ok') throw new Error(`${file}: ${result.reason}`);
      const named = ztfSsName(alert.ztf.candidate.ssnamenr) !== null;
      add(`${night} roid=${result.value.roid}`);
      add(`${night} named=${named} roid=${result.value.roid}`);
      if (result.value.roid === 3) add(`roid=3 ssName=${result.value.ssName !== null}`);
    }
  });

  it('gives each night a plausible distribution', () => {
    expect(
      Object.fromEntries([...counts].filter(([key]) => !key.includes('named') && key.startsWith('20'))),
    ).toEqual({
      '2020-01 roid=0': 14,
      '2020-01 roid=1': 7,
      '2020-01 roid=2': 29,
      '2023-10 roid=0': 359,
      '2023-10 roid=2': 108,
      '2023-10 roid=3': 94,
    });
  });

  it('flags 94 of the 100 alerts with a known object as roid 3, each with its name', () => {
    expect(counts.get('2023-10 named=true roid=3')).toBe(94);
    // The other 6 name an object 60" away (ssdistnr 60): too far for Fink's 5" association.
    expect(counts.get('2023-10 named=true roid=2')).toBe(6);
    expect(counts.get('roid=3 ssName=true')).toBe(94);
    expect(counts.get('roid=3 ssName=false')).toBeUndefined();
    expect(counts.get('2023-10 named=false roid=3')).toBeUndefined();
  });
});

describe('roid on the 25 real Rubin alerts', () => {
  it('flags the 3 alerts that carry an ssSource, with their designation', async () => {
    const step = createRoidStep<Alert>();
    const names: (string | null)[] = [];
    for (const alert of await realRubinAlerts()) {
      const result = await step(alert);
      if (result.kind !== 'ok') throw new Error(result.reason);
      // Parquet gives undefined where Avro gives null.
      expect(result.value.roid === 3).toBe((alert.lsst.ssSource ?? null) !== null);
      if (result.value.roid === 3) names.push(result.value.ssName);
    }
    expect(names).toHaveLength(3);
    expect(names).toContain('K01S97B');
  });
});
