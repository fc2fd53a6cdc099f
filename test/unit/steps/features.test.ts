import { describe, expect, it } from 'vitest';
import type { Alert, PhotometryPoint } from '../../../src/pipeline/alert.ts';
import { nalerthist, ztfLightCurve } from '../../../src/pipeline/classifiers/fink/photometry.ts';
import { computeLightCurveFeatures, createFeaturesStep } from '../../../src/pipeline/steps/features.step.ts';
import type {
  BandFeatures,
  FeaturesOptions,
  LightCurveFeatures,
} from '../../../src/pipeline/steps/features.step.ts';
import {
  BASE_JD,
  detection,
  prvCandidate,
  prvUpperLimit,
  realRubinAlerts,
  realZtfAlerts,
  upperLimit,
  withPoints,
  ztfAlert,
} from '../../helpers/alerts.ts';

const T = BASE_JD;

const NO_FEATURES: LightCurveFeatures = {
  bands: {},
  detections: 0,
  firstDetectionJd: null,
  lastDetectionJd: null,
  colorGR: null,
  colorGRJd: null,
  rate: null,
  rateErr: null,
  rateBand: null,
  rising: null,
};

function band(overrides: Partial<BandFeatures>): BandFeatures {
  return {
    detections: 0,
    upperLimits: 0,
    firstJd: null,
    lastJd: null,
    firstMag: null,
    peakMag: null,
    peakJd: null,
    lastMag: null,
    rate: null,
    rateErr: null,
    ...overrides,
  };
}

describe('computeLightCurveFeatures', () => {
  it('gives nothing for no points', () => {
    expect(computeLightCurveFeatures([])).toEqual(NO_FEATURES);
  });

  it('describes a single detection', () => {
    expect(computeLightCurveFeatures([detection(T, 'r', 18.5)])).toEqual({
      ...NO_FEATURES,
      bands: {
        r: band({
          detections: 1,
          firstJd: T,
          lastJd: T,
          firstMag: 18.5,
          peakMag: 18.5,
          peakJd: T,
          lastMag: 18.5,
        }),
      },
      detections: 1,
      firstDetectionJd: T,
      lastDetectionJd: T,
    });
  });

  it('summarises a band: counts, first/last, peak (minimum magnitude, earliest when tied), rate', () => {
    const points = [
      upperLimit(T - 5, 'g', 20.5),
      detection(T - 4, 'g', 19.0, 0.03),
      detection(T - 3, 'g', 18.0, 0.03),
      upperLimit(T - 2.5, 'g', 18.2),
      detection(T - 2, 'g', 18.0, 0.03),
      detection(T, 'g', 18.4, 0.04),
    ];
    const { bands } = computeLightCurveFeatures(points);
    expect(bands.g).toEqual(
      band({
        detections: 4,
        upperLimits: 2,
        firstJd: T - 4,
        lastJd: T,
        firstMag: 19.0,
        peakMag: 18.0,
        peakJd: T - 3,
        lastMag: 18.4,
        rate: expect.closeTo(0.2, 6) as number,
        rateErr: expect.closeTo(0.025, 6) as number,
      }),
    );
  });

  it('sorts the points itself (the current detection comes first in alert.points)', () => {
    const sorted = [detection(T - 2, 'r', 19), detection(T - 1, 'r', 18.5), detection(T, 'r', 18)];
    const shuffled = [sorted[2]!, sorted[0]!, sorted[1]!];
    expect(computeLightCurveFeatures(shuffled)).toEqual(computeLightCurveFeatures(sorted));
    expect(computeLightCurveFeatures(shuffled).bands.r?.firstMag).toBe(19);
  });

  it.each<[string, PhotometryPoint[], Partial<LightCurveFeatures>]>([
    [
      'a negative difference is a detection, counted and dated, but no magnitude feature reads it',
      [detection(T - 1, 'r', 18), { ...detection(T, 'r', 17), negative: true }],
      {
        detections: 2,
        lastDetectionJd: T,
        bands: {
          r: band({
            detections: 2,
            firstJd: T - 1,
            lastJd: T - 1,
            firstMag: 18,
            peakMag: 18,
            peakJd: T - 1,
            lastMag: 18,
          }),
        },
      },
    ],
    [
      'a Rubin negative detection (flux < 0, no magnitude) is a detection',
      [
        detection(T - 1, 'r', 18),
        { ...detection(T, 'r', 17), mag: null, magErr: null, flux: -500, negative: true },
      ],
      { detections: 2, firstDetectionJd: T - 1, lastDetectionJd: T },
    ],
    [
      'forced photometry is not used',
      [detection(T - 1, 'r', 18), { ...detection(T, 'r', 17), kind: 'forced' }],
      { detections: 1, lastDetectionJd: T - 1 },
    ],
    [
      'a detection without a magnitude or a flux is not used',
      [detection(T - 1, 'r', 18), { ...detection(T, 'r', 17), mag: null }],
      { detections: 1, lastDetectionJd: T - 1 },
    ],
  ])('%s', (_name, points, expected) => {
    expect(computeLightCurveFeatures(points)).toMatchObject(expected);
  });

  describe('rate and rising', () => {
    it.each<
      [string, PhotometryPoint[], FeaturesOptions, Pick<LightCurveFeatures, 'rate' | 'rateBand' | 'rising'>]
    >([
      [
        'fading 0.1 mag/day',
        [detection(T - 2, 'r', 18), detection(T, 'r', 18.2)],
        {},
        { rate: 0.1, rateBand: 'r', rising: false },
      ],
      [
        'brightening',
        [detection(T - 2, 'r', 18.2), detection(T, 'r', 18)],
        {},
        { rate: -0.1, rateBand: 'r', rising: true },
      ],
      [
        'flat is not rising',
        [detection(T - 2, 'r', 18), detection(T, 'r', 18)],
        {},
        { rate: 0, rateBand: 'r', rising: false },
      ],
      [
        'two detections an hour apart: no rate by default',
        [detection(T - 1 / 24, 'r', 18), detection(T, 'r', 18.2)],
        {},
        { rate: null, rateBand: null, rising: null },
      ],
      [
        'two detections an hour apart with rateMinBaselineDays 0',
        [detection(T - 1 / 24, 'r', 18), detection(T, 'r', 18.1)],
        { rateMinBaselineDays: 0 },
        { rate: expect.closeTo(2.4, 6) as number, rateBand: 'r', rising: false },
      ],
      [
        'same-time detections never make a rate',
        [detection(T, 'r', 18), detection(T, 'r', 18.1)],
        { rateMinBaselineDays: 0 },
        { rate: null, rateBand: null, rising: null },
      ],
      [
        'the earlier point is the latest one at least the baseline before the last',
        [
          detection(T - 2, 'r', 19),
          detection(T - 1, 'r', 18.5),
          detection(T - 0.1, 'r', 18.4),
          detection(T, 'r', 18),
        ],
        {},
        { rate: -0.5, rateBand: 'r', rising: true },
      ],
      [
        'the overall rate is that of the band whose rate ends latest',
        [
          detection(T - 3, 'g', 18),
          detection(T - 2, 'r', 18),
          detection(T - 1, 'g', 18.4),
          detection(T, 'r', 17.6),
        ],
        {},
        { rate: -0.2, rateBand: 'r', rising: true },
      ],
      [
        'a band with one detection has no rate: the other band gives it',
        [detection(T - 3, 'g', 18), detection(T - 1, 'g', 18.4), detection(T, 'r', 17.6)],
        {},
        { rate: 0.2, rateBand: 'g', rising: false },
      ],
      [
        'one detection brighter than the limit before it: rising',
        [upperLimit(T - 3, 'r', 19.5), upperLimit(T - 1, 'r', 20.5), detection(T, 'r', 19)],
        {},
        { rate: null, rateBand: null, rising: true },
      ],
      [
        'one detection fainter than the limit before it: unknown',
        [upperLimit(T - 3, 'r', 20.5), upperLimit(T - 1, 'r', 18.5), detection(T, 'r', 19)],
        {},
        { rate: null, rateBand: null, rising: null },
      ],
      [
        'a limit in another band says nothing',
        [upperLimit(T - 1, 'g', 20.5), detection(T, 'r', 19)],
        {},
        { rate: null, rateBand: null, rising: null },
      ],
      [
        'a limit after the detection says nothing',
        [detection(T - 1, 'r', 19), upperLimit(T, 'r', 20.5)],
        {},
        { rate: null, rateBand: null, rising: null },
      ],
      [
        'a limit without a limiting magnitude says nothing',
        [upperLimit(T - 1, 'r', null), detection(T, 'r', 19)],
        {},
        { rate: null, rateBand: null, rising: null },
      ],
    ])('%s', (_name, points, options, expected) => {
      const features = computeLightCurveFeatures(points, options);
      expect({ rate: features.rate, rateBand: features.rateBand, rising: features.rising }).toEqual(
        typeof expected.rate === 'number'
          ? { ...expected, rate: expect.closeTo(expected.rate, 6) as number }
          : expected,
      );
    });

    it('propagates the magnitude errors into rateErr, null when one is unknown', () => {
      const withErrors = computeLightCurveFeatures([
        detection(T - 2, 'r', 18, 0.3),
        detection(T, 'r', 18.2, 0.4),
      ]);
      expect(withErrors.rateErr).toBeCloseTo(0.25, 6);
      expect(withErrors.bands.r?.rateErr).toBeCloseTo(0.25, 6);
      const without = computeLightCurveFeatures([
        detection(T - 2, 'r', 18, null),
        detection(T, 'r', 18.2, 0.4),
      ]);
      expect(without.rate).toBeCloseTo(0.1, 6);
      expect(without.rateErr).toBeNull();
    });
  });

  describe('g - r colour', () => {
    it.each<[string, PhotometryPoint[], FeaturesOptions, number | null, number | null]>([
      ['g and r on the same night', [detection(T - 0.02, 'g', 18.2), detection(T, 'r', 18.5)], {}, -0.3, T],
      ['only g', [detection(T - 1, 'g', 18.2), detection(T, 'g', 18.5)], {}, null, null],
      ['g and r 0.6 day apart', [detection(T - 0.6, 'g', 18.2), detection(T, 'r', 18.5)], {}, null, null],
      [
        'g and r exactly 0.5 day apart',
        [detection(T - 0.5, 'g', 18.2), detection(T, 'r', 18.5)],
        {},
        -0.3,
        T,
      ],
      [
        'a wider window pairs them',
        [detection(T - 0.6, 'g', 18.2), detection(T, 'r', 18.5)],
        { colorWindowDays: 1 },
        -0.3,
        T,
      ],
      [
        'the latest epoch with both bands wins',
        [
          detection(T - 3, 'g', 18.0),
          detection(T - 3, 'r', 18.5),
          detection(T - 1, 'g', 18.6),
          detection(T - 0.9, 'r', 18.3),
          detection(T, 'g', 19),
        ],
        {},
        // g at T has no r within 0.5 day; g at T - 1 and r at T - 0.9 do: 18.6 - 18.3.
        0.3,
        T - 0.9,
      ],
      [
        'at the same epoch, the closer pair wins',
        [detection(T - 0.4, 'g', 18.0), detection(T - 0.1, 'g', 18.2), detection(T, 'r', 18.5)],
        {},
        -0.3,
        T,
      ],
      ['i does not enter g - r', [detection(T, 'i', 17), detection(T, 'r', 18.5)], {}, null, null],
    ])('%s', (_name, points, options, colorGR, colorGRJd) => {
      const features = computeLightCurveFeatures(points, options);
      if (colorGR === null) expect(features.colorGR).toBeNull();
      else expect(features.colorGR).toBeCloseTo(colorGR, 6);
      expect(features.colorGRJd).toBe(colorGRJd);
    });
  });
});

describe('createFeaturesStep', () => {
  it('is a named function that adds the features of alert.points', async () => {
    const step = createFeaturesStep<Alert>();
    expect(step.name).toBe('lightCurveFeatures');
    const alert = withPoints(ztfAlert(), [detection(T - 2, 'g', 18), detection(T, 'g', 18.4)]);
    const result = await step(alert);
    expect(result).toEqual({
      kind: 'ok',
      value: { ...alert, features: computeLightCurveFeatures(alert.points) },
    });
  });

  it('reads the ZTF history the decoder mapped: detections and upper limits, current detection included', async () => {
    const alert = ztfAlert({
      candidate: { jd: T, magpsf: 18, fid: 1 },
      prv: [prvUpperLimit(T - 3, 20.5, 1), prvCandidate({ jd: T - 2, magpsf: 18.4, fid: 1 })],
    });
    const result = await createFeaturesStep<Alert>()(alert);
    expect(result.kind === 'ok' && result.value.features).toMatchObject({
      detections: 2,
      bands: { g: { detections: 2, upperLimits: 1, lastMag: 18 } },
      rate: expect.closeTo(-0.2, 6) as number,
      rising: true,
    });
  });

  it('passes its options through', async () => {
    const alert = withPoints(ztfAlert(), [detection(T - 0.1, 'r', 18), detection(T, 'r', 18.1)]);
    const strict = await createFeaturesStep<Alert>()(alert);
    const loose = await createFeaturesStep<Alert>({ rateMinBaselineDays: 0 })(alert);
    expect(strict.kind === 'ok' && strict.value.features.rate).toBeNull();
    expect(loose.kind === 'ok' && loose.value.features.rate).toBeCloseTo(1, 6);
  });

  it.each<[FeaturesOptions]>([[{ colorWindowDays: -1 }], [{ rateMinBaselineDays: NaN }]])(
    'refuses %j',
    (options) => {
      expect(() => createFeaturesStep(options)).toThrow(RangeError);
    },
  );

  it('counts the negative detections of a real ZTF alert as Fink does (nalerthist), as many as its points', () => {
    // ZTF18aawsnob (2023-10): the positive candidate, 15 history detections of which 3 negative, 7 upper limits.
    const found = realZtfAlerts().find(({ file }) =>
      file.endsWith('part-00005-6a13ac52-6ec9-4ea5-9df7-241ef7f49431-c000.avro'),
    );
    if (found === undefined) throw new Error('ZTF18aawsnob is not in the shared data');
    const { alert } = found;
    const features = computeLightCurveFeatures(alert.points);
    expect(alert.objectId).toBe('ZTF18aawsnob');
    expect(features.detections).toBe(16);
    expect(features.detections).toBe(nalerthist(ztfLightCurve(alert.ztf)));
    expect(features.bands.g!.detections + features.bands.r!.detections).toBe(16);
    expect(features.bands.g!.upperLimits + features.bands.r!.upperLimits).toBe(7);
    expect(features.detections).toBe(alert.points.filter((p) => p.kind === 'detection').length);
    // The negative g detection is fainter than every positive one: the peak is not its |flux| magnitude (18.19).
    const negativeMags = alert.points.filter((p) => p.negative).map((p) => p.mag);
    expect(negativeMags).toHaveLength(3);
    expect(negativeMags).not.toContain(features.bands.g!.peakMag);
    expect(negativeMags).not.toContain(features.bands.g!.lastMag);
    expect(negativeMags).not.toContain(features.bands.r!.lastMag);
  });

  it('counts as many detections as nalerthist on every real ZTF alert', () => {
    for (const { alert } of realZtfAlerts()) {
      expect(computeLightCurveFeatures(alert.points).detections).toBe(nalerthist(ztfLightCurve(alert.ztf)));
    }
  });

  it('runs on the 611 real ZTF and 25 real Rubin alerts with consistent results', async () => {
    const step = createFeaturesStep<Alert>();
    const alerts: Alert[] = [...realZtfAlerts().map(({ alert }) => alert), ...(await realRubinAlerts())];
    expect(alerts).toHaveLength(636);
    for (const alert of alerts) {
      const result = await step(alert);
      if (result.kind !== 'ok') throw new Error(`${alert.alertId}: ${result.reason}`);
      const { features } = result.value;
      const measured = alert.points.filter(
        (p) => p.kind === 'detection' && (p.mag !== null || p.flux !== null),
      );
      expect(features.detections).toBe(measured.length);
      const perBand = Object.values(features.bands).reduce((sum, b) => sum + b.detections, 0);
      expect(perBand).toBe(features.detections);
      for (const b of Object.values(features.bands)) {
        if (b.peakMag !== null) expect(b.peakMag).toBeLessThanOrEqual(Math.min(b.firstMag!, b.lastMag!));
      }
      if (features.rising !== null && features.rate !== null) expect(features.rising).toBe(features.rate < 0);
    }
  });
});
