import { describe, expect, it } from 'vitest';
import type { Alert, PhotometryPoint } from '../../../src/pipeline/alert.ts';
import {
  BUILTIN_CLASSIFIERS,
  KILONOVA,
  MICROLENSING,
  SNIA_EARLY,
  SN_CANDIDATE,
  ramp,
  resolveClassifiers,
  trapezoid,
} from '../../../src/pipeline/classifiers/builtin.ts';
import { appliesTo } from '../../../src/pipeline/classifiers/classifier.ts';
import type { Classifier } from '../../../src/pipeline/classifiers/classifier.ts';
import type { ZtfCandidate } from '../../../src/pipeline/decode/ztf-avro.ts';
import { createRoidStep } from '../../../src/pipeline/steps/roid.step.ts';
import type { Roid } from '../../../src/pipeline/steps/roid.step.ts';
import {
  BASE_JD,
  classifierInput,
  detection,
  realRubinAlerts,
  realZtfAlerts,
  rubinAlert,
  upperLimit,
  withPoints,
  ztfAlert,
} from '../../helpers/alerts.ts';

const T = BASE_JD;

interface Case {
  candidate?: Partial<ZtfCandidate>;
  points: PhotometryPoint[];
  roid?: Roid;
  rubin?: boolean;
}

function scoreOf(classifier: Classifier, c: Case): number | null {
  const base: Alert = c.rubin === true ? rubinAlert() : ztfAlert({ candidate: { jd: T, ...c.candidate } });
  return classifier.score(classifierInput(withPoints(base, c.points), { roid: c.roid ?? 0 }));
}

function expectScore(actual: number | null, expected: number | null): void {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 6);
}

/** Off any star (nearest PS1 source 12" away, galaxy-like), detected a few times. */
const FIELD: Partial<ZtfCandidate> = { sgscore1: 0.1, distpsnr1: 12, ndethist: 4 };
const ON_STAR: Partial<ZtfCandidate> = { sgscore1: 0.95, distpsnr1: 0.3 };

describe('ramp and trapezoid', () => {
  it.each<[string, number, number]>([
    ['ramp(5, 0, 10)', ramp(5, 0, 10), 0.5],
    ['ramp below x0', ramp(-1, 0, 10), 0],
    ['ramp above x1', ramp(11, 0, 10), 1],
    ['decreasing ramp(25, 30, 10)', ramp(25, 30, 10), 0.25],
    ['trapezoid on the plateau', trapezoid(0.1, 0, 0.02, 0.3, 0.6), 1],
    ['trapezoid on the way up', trapezoid(0.01, 0, 0.02, 0.3, 0.6), 0.5],
    ['trapezoid on the way down', trapezoid(0.45, 0, 0.02, 0.3, 0.6), 0.5],
    ['trapezoid outside', trapezoid(0.7, 0, 0.02, 0.3, 0.6), 0],
  ])('%s = %d', (_name, actual, expected) => {
    expect(actual).toBeCloseTo(expected, 9);
  });
});

describe('snia_early', () => {
  // g and r four days apart, brightening 0.15 mag/day, g - r = -0.1 at the last epoch: a textbook young SN Ia.
  const young = (rLast = 19.0): PhotometryPoint[] => [
    detection(T - 4, 'g', 19.5),
    detection(T - 4, 'r', 19.6),
    detection(T, 'g', 18.9),
    detection(T, 'r', rLast),
  ];
  const YOUNG = { ...FIELD, jdstarthist: T - 5 };

  it.each<[string, number | null, Case]>([
    ['young, rising 0.15 mag/day, blue', 1, { candidate: YOUNG, points: young() }],
    ['red (g - r = 0.8): colour factor 0', 0.5, { candidate: YOUNG, points: young(18.1) }],
    ['20 days old: youth halved', 0.5, { candidate: { ...YOUNG, jdstarthist: T - 20 }, points: young() }],
    ['40 days old', 0, { candidate: { ...YOUNG, jdstarthist: T - 40 }, points: young() }],
    ['on a star', 0, { candidate: { ...YOUNG, ...ON_STAR }, points: young() }],
    [
      'a stellar PS1 source 10" away is not "on a star"',
      1,
      { candidate: { ...YOUNG, sgscore1: 0.99, distpsnr1: 10 }, points: young() },
    ],
    ['a known solar-system object', 0, { candidate: YOUNG, points: young(), roid: 3 }],
    ['more than 20 detections', 0, { candidate: { ...YOUNG, ndethist: 21 }, points: young() }],
    ['fading', 0, { candidate: YOUNG, points: [detection(T - 4, 'g', 18.9), detection(T, 'g', 19.5)] }],
    [
      'rising 1 mag/day: too fast for a SN Ia',
      0,
      { candidate: YOUNG, points: [detection(T - 1, 'g', 19.9), detection(T, 'g', 18.9)] },
    ],
    ['one detection, nothing to compare with', null, { candidate: YOUNG, points: [detection(T, 'r', 19)] }],
    [
      'rising only from an upper limit, colour unknown',
      0.375,
      { candidate: YOUNG, points: [upperLimit(T - 1, 'r', 20.5), detection(T, 'r', 19)] },
    ],
    [
      'rising only from an upper limit, blue: 0.5, never above',
      0.5,
      {
        candidate: YOUNG,
        points: [upperLimit(T - 1, 'r', 20.5), detection(T - 0.1, 'g', 19), detection(T, 'r', 19)],
      },
    ],
    ['Rubin: no star/galaxy score, age from the history', 1, { rubin: true, points: young() }],
  ])('%s -> %s', (_name, expected, c) => {
    expectScore(scoreOf(SNIA_EARLY, c), expected);
  });
});

describe('sn_candidate', () => {
  const MATURE = { ...FIELD, ndethist: 10, jdstarthist: T - 20 };
  const fading = (rate: number, bands: readonly ('g' | 'r')[] = ['g', 'r']): PhotometryPoint[] =>
    bands.flatMap((b) => [detection(T - 10, b, 18.5), detection(T, b, 18.5 + 10 * rate)]);

  it.each<[string, number | null, Case]>([
    ['fading 0.05 mag/day in g and r', 1, { candidate: MATURE, points: fading(0.05) }],
    ['rising 0.05 mag/day', 1, { candidate: MATURE, points: fading(-0.05) }],
    ['one band only', 0.8, { candidate: MATURE, points: fading(0.05, ['r']) }],
    ['0.2 mag/day: partly too fast', 2 / 3, { candidate: MATURE, points: fading(0.2) }],
    ['flat (0.001 mag/day)', 0, { candidate: MATURE, points: fading(0.001) }],
    ['0.5 mag/day: too fast', 0, { candidate: MATURE, points: fading(0.5) }],
    ['a known solar-system object', 0, { candidate: MATURE, points: fading(0.05), roid: 3 }],
    ['on a star', 0, { candidate: { ...MATURE, ...ON_STAR }, points: fading(0.05) }],
    [
      '2 detections (Fink: more than 1; here at least 3)',
      0,
      { candidate: { ...MATURE, ndethist: 2 }, points: fading(0.05) },
    ],
    [
      '100 days old (Fink: at most 90)',
      0,
      { candidate: { ...MATURE, jdstarthist: T - 100 }, points: fading(0.05) },
    ],
    ['no rate in the alert history', null, { candidate: MATURE, points: [detection(T, 'r', 18.5)] }],
    [
      'Rubin, detections counted in the history',
      1,
      { rubin: true, points: [...fading(0.05), detection(T - 5, 'r', 18.7)] },
    ],
    ['Rubin with too few detections', 0, { rubin: true, points: fading(0.05, ['r']) }],
  ])('%s -> %s', (_name, expected, c) => {
    expectScore(scoreOf(SN_CANDIDATE, c), expected);
  });
});

describe('kilonova', () => {
  const NEW = { ...FIELD, ndethist: 3, jdstarthist: T - 2 };
  const fade = (dm: number, magErr: number | null = null): PhotometryPoint[] => [
    detection(T - 1, 'r', 18, magErr),
    detection(T, 'r', 18 + dm, magErr),
  ];

  it.each<[string, number | null, Case]>([
    ['2 days old, fading 0.8 mag/day', 1, { candidate: NEW, points: fade(0.8, 0.05) }],
    ['fading 0.3 mag/day, exact magnitudes', 0.5, { candidate: NEW, points: fade(0.3) }],
    ['fading 0.8 mag/day but with 0.5 mag errors', 0, { candidate: NEW, points: fade(0.8, 0.5) }],
    ['rising fast', 0, { candidate: NEW, points: fade(-0.8) }],
    ['7 days old', 0.6, { candidate: { ...NEW, jdstarthist: T - 7 }, points: fade(0.8) }],
    ['12 days old', 0, { candidate: { ...NEW, jdstarthist: T - 12 }, points: fade(0.8) }],
    ['a known solar-system object', 0, { candidate: NEW, points: fade(0.8), roid: 3 }],
    ['20 detections (Fink: fewer than 20)', 0, { candidate: { ...NEW, ndethist: 20 }, points: fade(0.8) }],
    ['on a star', 0, { candidate: { ...NEW, ...ON_STAR }, points: fade(0.8) }],
    ['no rate', null, { candidate: NEW, points: [detection(T, 'r', 18)] }],
  ])('%s -> %s', (_name, expected, c) => {
    expectScore(scoreOf(KILONOVA, c), expected);
  });
});

describe('microlensing', () => {
  const bump = (mags: readonly number[], days: readonly number[] = [20, 15, 10, 5, 0]): PhotometryPoint[] =>
    mags.map((mag, i) => detection(T - days[i]!, 'r', mag));
  const SYMMETRIC = [18, 17.5, 17, 17.5, 18];

  it.each<[string, number | null, Case]>([
    ['a symmetric 1 mag bump over 20 days on a star', 1, { candidate: ON_STAR, points: bump(SYMMETRIC) }],
    ['the same off any star', 0.3, { candidate: FIELD, points: bump(SYMMETRIC) }],
    ['the same on Rubin (no star/galaxy score)', 0.6, { rubin: true, points: bump(SYMMETRIC) }],
    [
      'a fast rise and a slow decline (0.5 vs 1/18 mag/day)',
      0.2,
      { candidate: ON_STAR, points: bump([18, 17, 17.5, 17.8, 18], [20, 18, 10, 5, 0]) },
    ],
    [
      'still rising: the peak is the last point',
      0,
      { candidate: ON_STAR, points: bump([18, 17.8, 17.5, 17.2, 17]) },
    ],
    ['a dip, not a bump', 0, { candidate: ON_STAR, points: bump([17, 17.5, 18, 17.5, 17]) }],
    ['a 0.3 mag bump', 0.5, { candidate: ON_STAR, points: bump([18, 17.85, 17.7, 17.85, 18]) }],
    ['over 4 days only', 0, { candidate: ON_STAR, points: bump(SYMMETRIC, [4, 3, 2, 1, 0]) }],
    ['a known solar-system object', 0, { candidate: ON_STAR, points: bump(SYMMETRIC), roid: 3 }],
    ['4 detections are too few', null, { candidate: ON_STAR, points: bump(SYMMETRIC.slice(0, 4)) }],
  ])('%s -> %s', (_name, expected, c) => {
    expectScore(scoreOf(MICROLENSING, c), expected);
  });
});

describe('the registry', () => {
  it('holds the four heuristics under their own names, each named heuristic and documented', () => {
    expect(Object.keys(BUILTIN_CLASSIFIERS).sort()).toEqual([
      'heuristic_kilonova',
      'heuristic_microlensing',
      'heuristic_sn_candidate',
      'heuristic_snia_early',
    ]);
    for (const [name, classifier] of Object.entries(BUILTIN_CLASSIFIERS)) {
      expect(classifier.name).toBe(name);
      expect(classifier.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(classifier.inputs.length).toBeGreaterThan(0);
      expect(appliesTo(classifier, 'ztf') && appliesTo(classifier, 'lsst')).toBe(true);
    }
  });

  it('resolves names in config order', () => {
    expect(resolveClassifiers(['heuristic_kilonova', 'heuristic_snia_early']).map((c) => c.name)).toEqual([
      'heuristic_kilonova',
      'heuristic_snia_early',
    ]);
    expect(resolveClassifiers([])).toEqual([]);
  });

  it.each<[string, string[], RegExp]>([
    [
      'an unknown name, naming it and the known ones',
      ['heuristic_snia_early', 'snia_early'],
      /unknown classifier 'snia_early'.*known: .*heuristic_snia_early/,
    ],
    ['an inherited property name', ['toString'], /unknown classifier 'toString'/],
    [
      'a name listed twice',
      ['heuristic_kilonova', 'heuristic_kilonova'],
      /'heuristic_kilonova' is listed twice/,
    ],
  ])('refuses %s', (_name, names, message) => {
    expect(() => resolveClassifiers(names)).toThrow(message);
  });

  it.each<[Classifier['survey'], boolean, boolean]>([
    [undefined, true, true],
    ['both', true, true],
    ['ztf', true, false],
    ['lsst', false, true],
  ])('survey %s applies to ztf: %s, lsst: %s', (survey, ztf, lsst) => {
    const classifier: Classifier = { name: 'x', version: '1.0.0', inputs: [], survey, score: () => null };
    expect([appliesTo(classifier, 'ztf'), appliesTo(classifier, 'lsst')]).toEqual([ztf, lsst]);
  });
});

describe('built-in classifiers on the real alerts', () => {
  it('score each of the 611 ZTF and 25 Rubin alerts in [0, 1] or null', async () => {
    const roid = createRoidStep<Alert>();
    const alerts: Alert[] = [...realZtfAlerts().map(({ alert }) => alert), ...(await realRubinAlerts())];
    let scored = 0;
    for (const alert of alerts) {
      const result = await roid(alert);
      if (result.kind !== 'ok') throw new Error(`${alert.alertId}: ${result.reason}`);
      const input = classifierInput(result.value, { roid: result.value.roid });
      for (const classifier of Object.values(BUILTIN_CLASSIFIERS)) {
        const score = classifier.score(input);
        if (score === null) continue;
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        scored++;
      }
    }
    expect(scored).toBeGreaterThan(636);
  });
});
