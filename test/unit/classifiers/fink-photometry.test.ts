import { describe, expect, it } from 'vitest';
import {
  apparentFlux,
  dcMag,
  finkZtfCut,
  isSourceBehind,
  mag2fluxcalSnana,
  nalerthist,
  ztfDcLightCurve,
  ztfLightCurve,
} from '../../../src/pipeline/classifiers/fink/photometry.ts';
import type { ZtfAlert } from '../../../src/pipeline/decode/ztf-avro.ts';

describe('dcMag (fink-utils dc_mag)', () => {
  // Reference flux 10^(-0.4 * 17) and difference flux 10^(-0.4 * 19): DC = ref +- diff.
  const ref = 10 ** (-0.4 * 17);
  const diff = 10 ** (-0.4 * 19);
  it.each([
    ['positive (t)', 't', -2.5 * Math.log10(ref + diff)],
    ['positive (1)', '1', -2.5 * Math.log10(ref + diff)],
    ['negative (f): the source faded', 'f', -2.5 * Math.log10(ref - diff)],
    ['negative (0)', '0', -2.5 * Math.log10(ref - diff)],
  ])('%s', (_, isdiffpos, expected) => {
    const { mag, magErr } = dcMag(19, 0.1, 17, 0.02, isdiffpos);
    expect(mag).toBeCloseTo(expected, 12);
    const sig = Math.hypot((0.1 / 1.0857) * diff, (0.02 / 1.0857) * ref);
    const flux = isdiffpos === 't' || isdiffpos === '1' ? ref + diff : ref - diff;
    expect(magErr).toBeCloseTo((sig / flux) * 1.0857, 12);
  });

  it('a negative detection brighter than the reference has no DC magnitude (NaN, as numpy log10 < 0)', () => {
    expect(dcMag(16, 0.1, 17, 0.02, 'f').mag).toBeNaN();
  });

  it('no reference source (magnr < 0 or null): NaN', () => {
    expect(dcMag(19, 0.1, -999, 0.02, 't').mag).toBeNaN();
    expect(dcMag(19, 0.1, null, null, 't').mag).toBeNaN();
  });

  it('an upper limit (no magpsf): NaN', () => {
    expect(dcMag(null, null, 17, 0.02, null).mag).toBeNaN();
    expect(Number.isNaN(apparentFlux(null, null, 17, 0.02, null).flux)).toBe(true);
  });
});

describe('Fink photometric helpers', () => {
  it('SNANA FLUXCAL has zero point 27.5', () => {
    expect(mag2fluxcalSnana(27.5, 0.1).flux).toBeCloseTo(1, 12);
    expect(mag2fluxcalSnana(22.5, 0.1).fluxErr).toBeCloseTo(9.21034e10 * Math.exp(-0.921034 * 22.5) * 0.1, 6);
  });

  it.each([
    [0.5, true],
    [1.5, true],
    [1.51, false],
    [-999, false],
    [Number.NaN, false],
  ])('is_source_behind(distnr=%f) = %s', (distnr, expected) => {
    expect(isSourceBehind(distnr)).toBe(expected);
  });
});

describe('ztfLightCurve and nalerthist', () => {
  const alert = {
    candidate: {
      jd: 3,
      fid: 2,
      magpsf: 18,
      sigmapsf: 0.1,
      magnr: 17,
      sigmagnr: 0.02,
      isdiffpos: 'f',
      distnr: 0.3,
      diffmaglim: 20,
    },
    prv_candidates: [
      {
        jd: 1,
        fid: 1,
        magpsf: null,
        sigmapsf: null,
        magnr: null,
        sigmagnr: null,
        isdiffpos: null,
        distnr: null,
        diffmaglim: 19.5,
      },
      {
        jd: 2,
        fid: 2,
        magpsf: 18.5,
        sigmapsf: 0.2,
        magnr: 17,
        sigmagnr: 0.02,
        isdiffpos: 't',
        distnr: 0.3,
        diffmaglim: 20,
      },
    ],
  } as unknown as ZtfAlert;

  it('puts the history first and the candidate last, nulls as NaN', () => {
    const lc = ztfLightCurve(alert);
    expect(Array.from(lc.jd)).toEqual([1, 2, 3]);
    expect(Number.isNaN(lc.magpsf[0]!)).toBe(true);
    expect(lc.isdiffpos).toEqual([null, 't', 'f']);
  });

  it('counts negative detections and not upper limits', () => {
    expect(nalerthist(ztfLightCurve(alert))).toBe(2);
  });

  it('gives both magnitudes per point, negative detections marked', () => {
    const points = ztfDcLightCurve(alert);
    expect(points.map((p) => [p.kind, p.negative])).toEqual([
      ['upper-limit', false],
      ['detection', false],
      ['detection', true],
    ]);
    expect(points[0]).toMatchObject({ magpsf: null, dcmag: null, diffmaglim: 19.5 });
    expect(points[2]!.dcmag).toBeCloseTo(dcMag(18, 0.1, 17, 0.02, 'f').mag, 12);
    // Fainter than the reference: the apparent magnitude is fainter than the reference's 17.
    expect(points[2]!.dcmag!).toBeGreaterThan(17);
    expect(points[1]!.dcmag!).toBeLessThan(17);
  });
});

describe("finkZtfCut (Fink's quality cuts and its i-band cut)", () => {
  it.each([
    [{ rb: 0.9, nbad: 0, fid: 1 }, null],
    [{ rb: 0.9, nbad: 0, fid: 2 }, null],
    [{ rb: 0.9, nbad: 0, fid: 3 }, 'i-band'],
    [{ rb: 0.55, nbad: 0, fid: 1 }, null],
    [{ rb: 0.54, nbad: 0, fid: 1 }, 'rb-below-0.55'],
    [{ rb: null, nbad: 0, fid: 1 }, 'rb-below-0.55'],
    [{ rb: 0.9, nbad: 1, fid: 1 }, 'nbad-nonzero'],
    [{ rb: 0.9, nbad: null, fid: 1 }, 'nbad-nonzero'],
  ])('%o -> %s', (candidate, expected) => {
    expect(finkZtfCut(candidate)).toBe(expected);
  });
});
