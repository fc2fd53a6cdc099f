import { describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../../src/pipeline/alert.ts';
import { BUILTIN_CLASSIFIERS, resolveClassifiers } from '../../../src/pipeline/classifiers/builtin.ts';
import { NO_MODEL } from '../../../src/pipeline/classifiers/classifier.ts';
import type { Classifier, ClassifierScore } from '../../../src/pipeline/classifiers/classifier.ts';
import { FINK_LABELS as LABELS } from '../../../src/pipeline/classifiers/fink/label.ts';
import { Pipeline } from '../../../src/pipeline/framework.ts';
import {
  FINK_OVERRIDING_TYPES,
  cdsxmatchOf,
  createClassificationStep,
  labelOf,
} from '../../../src/pipeline/steps/classification.step.ts';
import { createFinkClassifiers, FINK_ZTF_SCORES } from '../../../src/pipeline/classifiers/fink/index.ts';
import type { FinkClassifiers, ScoreSet } from '../../../src/pipeline/classifiers/fink/index.ts';
import type {
  ClassificationInput,
  CrossmatchForLabel,
} from '../../../src/pipeline/steps/classification.step.ts';
import { createFeaturesStep } from '../../../src/pipeline/steps/features.step.ts';
import { createQualityCutsStep } from '../../../src/pipeline/steps/quality.step.ts';
import { createRoidStep } from '../../../src/pipeline/steps/roid.step.ts';
import type { Roid } from '../../../src/pipeline/steps/roid.step.ts';
import {
  classifierInput,
  realRubinAlerts,
  realZtfAlerts,
  rubinAlert,
  ztfAlert,
} from '../../helpers/alerts.ts';
import { finkModels, parityReference } from '../../helpers/fink-models.ts';

type Flag = 'microlensing' | 'sn_candidate' | 'snia_early' | 'kilonova';

/** Scores as the four heuristics that raise labels would give them: 0.9 for a raised flag, 0.1 otherwise. */
function scores(...up: Flag[]): ClassifierScore[] {
  return (['microlensing', 'sn_candidate', 'snia_early', 'kilonova'] as const).map((flag) => ({
    classifier: `heuristic_${flag}`,
    version: '1.0.0',
    score: up.includes(flag) ? 0.9 : 0.1,
    ...NO_MODEL,
  }));
}

function match(overrides: Partial<CrossmatchForLabel> = {}): CrossmatchForLabel {
  return { catalog: 'gcvs', distanceArcsec: 0.4, type: 'RRAB', overriding: true, ...overrides };
}

describe('labelOf: Fink extract_fink_classification_', () => {
  it.each<[string, string, Flag[], { roid?: Roid; tracklet?: boolean }]>([
    ['nothing', LABELS.unknown, [], {}],
    ['microlensing', LABELS.microlensing, ['microlensing'], {}],
    ['SN', LABELS.sn, ['sn_candidate'], {}],
    ['early SN Ia', LABELS.earlySnIa, ['snia_early'], {}],
    ['kilonova', LABELS.kilonova, ['kilonova'], {}],
    ['roid 2', LABELS.ssoCandidate, [], { roid: 2 }],
    ['roid 3', LABELS.ssoMpc, [], { roid: 3 }],
    ['roid 1 (first detection) is no label', LABELS.unknown, [], { roid: 1 }],
    ['tracklet', LABELS.tracklet, [], { tracklet: true }],
    ['tracklet false', LABELS.unknown, [], { tracklet: false }],
    // order: a later label replaces an earlier one
    [
      'SN then early SN Ia: early SN Ia (not counted for ambiguity)',
      LABELS.earlySnIa,
      ['sn_candidate', 'snia_early'],
      {},
    ],
    ['early SN Ia then kilonova', LABELS.kilonova, ['snia_early', 'kilonova'], {}],
    ['SN, early SN Ia and kilonova', LABELS.kilonova, ['sn_candidate', 'snia_early', 'kilonova'], {}],
    ['microlensing and early SN Ia', LABELS.earlySnIa, ['microlensing', 'snia_early'], {}],
    ['kilonova and roid 2', LABELS.ssoCandidate, ['kilonova'], { roid: 2 }],
    ['roid 2 and tracklet: tracklet', LABELS.tracklet, [], { roid: 2, tracklet: true }],
    ['tracklet and roid 3: roid 3', LABELS.ssoMpc, [], { roid: 3, tracklet: true }],
    ['early SN Ia and roid 3', LABELS.ssoMpc, ['snia_early'], { roid: 3 }],
    // ambiguity: more than one of microlensing, SN, roid 2, roid 3
    ['microlensing and SN', LABELS.ambiguous, ['microlensing', 'sn_candidate'], {}],
    ['SN and roid 2', LABELS.ambiguous, ['sn_candidate'], { roid: 2 }],
    ['microlensing and roid 3', LABELS.ambiguous, ['microlensing'], { roid: 3 }],
    ['SN and roid 3, with a tracklet', LABELS.ambiguous, ['sn_candidate'], { roid: 3, tracklet: true }],
    [
      'all four classifiers',
      LABELS.ambiguous,
      ['microlensing', 'sn_candidate', 'snia_early', 'kilonova'],
      {},
    ],
  ])('%s -> %s', (_name, expected, up, alert) => {
    expect(labelOf({ roid: alert.roid ?? 0, tracklet: alert.tracklet }, scores(...up))).toBe(expected);
  });

  it.each<[string, string, number | null, number | undefined]>([
    ['a score above the default 0.5', LABELS.sn, 0.51, undefined],
    ['exactly 0.5 (Fink: strictly greater)', LABELS.unknown, 0.5, undefined],
    ['a null score (not assessed)', LABELS.unknown, null, undefined],
    ['0.3 with threshold 0.2', LABELS.sn, 0.3, 0.2],
    ['0.6 with threshold 0.7', LABELS.unknown, 0.6, 0.7],
  ])('%s -> %s', (_name, expected, score, threshold) => {
    const only: ClassifierScore[] = [
      { classifier: 'heuristic_sn_candidate', version: '1.0.0', score, ...NO_MODEL },
    ];
    expect(labelOf({ roid: 0 }, only, threshold === undefined ? {} : { threshold })).toBe(expected);
  });

  it('ignores scores of classifiers that raise no label', () => {
    const other: ClassifierScore[] = [{ classifier: 'anomaly', version: '0.1.0', score: 0.99, ...NO_MODEL }];
    expect(labelOf({ roid: 0 }, other)).toBe(LABELS.unknown);
  });

  describe('override by a catalog type', () => {
    it.each<[string, string, CrossmatchForLabel[], Flag[], Roid]>([
      ['an overriding match replaces Unknown', 'RRAB', [match()], [], 0],
      ['it replaces a classifier label', 'RRAB', [match()], ['sn_candidate'], 0],
      ['it replaces Ambiguous too', 'RRAB', [match()], ['microlensing', 'sn_candidate'], 0],
      ['it replaces Solar System MPC', 'RRAB', [match()], [], 3],
      ['a non-overriding catalog does not', LABELS.sn, [match({ overriding: false })], ['sn_candidate'], 0],
      ['a match without a type does not', LABELS.unknown, [match({ type: null })], [], 0],
      ["Fink ignores SIMBAD's 'Unknown'", LABELS.unknown, [match({ type: 'Unknown' })], [], 0],
      ["and 'Transient'", LABELS.sn, [match({ type: 'Transient' })], ['sn_candidate'], 0],
      ["and failures ('Fail 504')", LABELS.unknown, [match({ type: 'Fail 504' })], [], 0],
      [
        "and galaxies, the host not the transient ('Galaxy')",
        LABELS.sn,
        [match({ type: 'Galaxy' })],
        ['sn_candidate'],
        0,
      ],
      [
        'the nearest overriding match wins',
        'YSO',
        [
          match({ type: 'RRAB', distanceArcsec: 1.1 }),
          match({ catalog: 'spicy', type: 'YSO', distanceArcsec: 0.2 }),
        ],
        [],
        0,
      ],
      [
        'a nearer match that may not override is skipped',
        'RRAB',
        [match({ type: 'RRAB', distanceArcsec: 1.1 }), match({ type: 'Fail', distanceArcsec: 0.1 })],
        [],
        0,
      ],
      ['no cross-matches', LABELS.unknown, [], [], 0],
    ])('%s -> %s', (_name, expected, crossmatches, up, roid) => {
      expect(labelOf({ roid, crossmatches }, scores(...up))).toBe(expected);
    });

    it('takes a custom policy: type and catalog', () => {
      const onlyGcvs = (_type: string, catalog: string): boolean => catalog === 'gcvs';
      const crossmatches = [
        match({ catalog: 'spicy', type: 'YSO', distanceArcsec: 0.1 }),
        match({ distanceArcsec: 1 }),
      ];
      expect(labelOf({ roid: 0, crossmatches }, [], { overridingTypes: onlyGcvs })).toBe('RRAB');
      expect(FINK_OVERRIDING_TYPES('Galaxy', 'simbad')).toBe(false);
      expect(FINK_OVERRIDING_TYPES('QSO', 'simbad')).toBe(true);
    });
  });
});

describe('createClassificationStep', () => {
  function fixed(name: string, score: number | null, extra: Partial<Classifier> = {}): Classifier {
    return { name, version: '2.1.0', inputs: ['features.rate'], score: () => score, ...extra };
  }

  async function classify(heuristics: Classifier[], input: ClassificationInput) {
    const step = createClassificationStep<ClassificationInput>({ fink: null, heuristics });
    const [result] = await step([input]);
    if (result?.kind !== 'ok') throw new Error('classification rejected');
    return result.value.classification;
  }

  it('is a named function', () => {
    expect(createClassificationStep({ fink: null, heuristics: [] }).name).toBe('classification');
  });

  it('records every score with the classifier name and version, in config order', async () => {
    const classification = await classify(
      [fixed('heuristic_kilonova', 0.2), fixed('heuristic_sn_candidate', 0.8), fixed('anomaly', 0.99)],
      classifierInput(ztfAlert()),
    );
    expect(classification).toEqual({
      label: LABELS.sn,
      scores: [
        { classifier: 'heuristic_kilonova', version: '2.1.0', score: 0.2, ...NO_MODEL },
        { classifier: 'heuristic_sn_candidate', version: '2.1.0', score: 0.8, ...NO_MODEL },
        { classifier: 'anomaly', version: '2.1.0', score: 0.99, ...NO_MODEL },
      ],
    });
  });

  it('does not run a classifier on another survey: its score is null', async () => {
    const ztfOnly = vi.fn(() => 0.9);
    const classifiers = [fixed('heuristic_sn_candidate', 0.9, { survey: 'ztf', score: ztfOnly })];
    const onRubin = await classify(classifiers, classifierInput(rubinAlert()));
    expect(onRubin).toEqual({
      label: LABELS.unknown,
      scores: [{ classifier: 'heuristic_sn_candidate', version: '2.1.0', score: null, ...NO_MODEL }],
    });
    expect(ztfOnly).not.toHaveBeenCalled();
    expect((await classify(classifiers, classifierInput(ztfAlert()))).label).toBe(LABELS.sn);
    expect(ztfOnly).toHaveBeenCalledTimes(1);
  });

  it('labels from roid, tracklet and cross-matches as well', async () => {
    const input: ClassificationInput = {
      ...classifierInput(ztfAlert(), { roid: 2 }),
      tracklet: true,
      crossmatches: [],
    };
    expect((await classify([], input)).label).toBe(LABELS.tracklet);
    const matched = { ...input, crossmatches: [{ ...match(), sourceId: 'GCVS 1' }] };
    expect((await classify([], matched)).label).toBe('RRAB');
  });

  it.each<[string, number]>([
    ['above 1', 1.5],
    ['below 0', -0.1],
    ['NaN', NaN],
  ])(
    'keeps the alert when a classifier answers a score %s: null score, failure counted',
    async (_name, score) => {
      const result = await classify(
        [fixed('broken', score), fixed('fine', 0.9)],
        classifierInput(ztfAlert()),
      );
      expect(result.scores.map((s) => s.score)).toEqual([null, 0.9]);
      expect(result.failures).toEqual([{ classifier: 'broken', reason: 'not-a-score' }]);
    },
  );

  it('keeps the alert when a classifier throws: null score, failure counted', async () => {
    const throwing = fixed('thrower', 0.5, {
      score: () => {
        throw new TypeError('unforeseen value');
      },
    });
    const result = await classify([throwing], classifierInput(ztfAlert()));
    expect(result.scores).toEqual([{ classifier: 'thrower', version: '2.1.0', score: null, ...NO_MODEL }]);
    expect(result.failures).toEqual([{ classifier: 'thrower', reason: 'threw' }]);
  });

  it('keeps the alert and adds only `classification`', async () => {
    const input = classifierInput(ztfAlert());
    const result = await createClassificationStep<ClassificationInput>({ fink: null, heuristics: [] })([
      input,
    ]);
    expect(result).toEqual([
      { kind: 'ok', value: { ...input, classification: { label: LABELS.unknown, scores: [] } } },
    ]);
  });
});

describe('the whole chain on the real alerts', () => {
  async function labelCounts(alerts: Alert[]): Promise<{ labels: Record<string, number>; dropped: number }> {
    const pipeline = Pipeline.start<Alert>()
      .step(createQualityCutsStep())
      .step(createRoidStep())
      .step(createFeaturesStep())
      .batch(
        createClassificationStep({
          fink: null,
          heuristics: resolveClassifiers(Object.keys(BUILTIN_CLASSIFIERS)),
        }),
      );
    const labels: Record<string, number> = {};
    let dropped = 0;
    for (const result of await pipeline.run(alerts)) {
      if (result.kind !== 'ok') {
        dropped++;
        continue;
      }
      const { label } = result.value.classification;
      labels[label] = (labels[label] ?? 0) + 1;
    }
    return { labels, dropped };
  }

  it('labels the 570 ZTF alerts that pass the quality cuts, solar-system ones per roid', async () => {
    const { labels, dropped } = await labelCounts(realZtfAlerts().map(({ alert }) => alert));
    expect(dropped).toBe(41);
    expect(Object.values(labels).reduce((a, b) => a + b, 0)).toBe(570);
    // Every roid 3 alert (all in 2023-10) passes rb >= 0.55; 28 of the 137 roid 2 alerts do not.
    expect(labels[LABELS.ssoMpc]).toBe(94);
    expect(labels[LABELS.ssoCandidate]).toBe(109);
    expect(labels[LABELS.ambiguous]).toBeUndefined();
    expect(Object.keys(labels).every((label) => (Object.values(LABELS) as string[]).includes(label))).toBe(
      true,
    );
    expect(labels[LABELS.unknown]).toBeGreaterThan(285);
  });

  it('labels the 7 Rubin alerts that pass the quality cuts', async () => {
    const { labels, dropped } = await labelCounts(await realRubinAlerts());
    expect(dropped).toBe(18);
    expect(Object.values(labels).reduce((a, b) => a + b, 0)).toBe(7);
    expect(Object.keys(labels).every((label) => (Object.values(LABELS) as string[]).includes(label))).toBe(
      true,
    );
  });
});

describe("createClassificationStep with Fink's classifiers", () => {
  const provenance = {
    modelFile: 'snn_models/snn_snia_vs_nonia/model.pt',
    modelSha256: 'cd'.repeat(32),
    finkScienceVersion: '7.4.0',
  };

  /** Fink's classifiers answering `value(alert)` for every ZTF score; throws for an alert when it says so. */
  function fakeFink(value: (alert: Alert) => number | 'throw'): FinkClassifiers {
    return {
      finkScienceVersion: '7.4.0',
      kilonovaInstalled: true,
      classify: (inputs) => {
        const sets = inputs.map(({ alert }): ScoreSet => {
          const v = value(alert);
          if (v === 'throw') throw new TypeError('unforeseen value');
          return {
            alertId: alert.alertId,
            survey: alert.survey,
            cut: null,
            nalerthist: 1,
            scores: [
              ...FINK_ZTF_SCORES.map((classifier) => ({
                classifier,
                score: v,
                missing: null,
                provenance,
              })),
              { classifier: 'snnSnVsOthers_score', score: null, missing: 'survey', provenance },
            ],
            finkclass: 'SN candidate',
          };
        });
        return Promise.resolve(sets);
      },
    };
  }

  async function run(fink: FinkClassifiers, alerts: Alert[], heuristics: Classifier[] = []) {
    const step = createClassificationStep<ClassificationInput>({ fink, heuristics });
    const results = await step(alerts.map((alert) => classifierInput(alert)));
    return results.map((result) => {
      if (result.kind !== 'ok') throw new Error('classification rejected');
      return result.value.classification;
    });
  }

  it("stores the survey's Fink scores with their provenance, then the heuristics'; Fink's label", async () => {
    const heuristic: Classifier = {
      name: 'heuristic_sn_candidate',
      version: '1.0.0',
      inputs: [],
      score: () => 0.9,
    };
    const [classification] = await run(
      fakeFink(() => 0.25),
      [ztfAlert()],
      [heuristic],
    );
    expect(classification).toEqual({
      label: 'SN candidate',
      scores: [
        ...FINK_ZTF_SCORES.map((classifier) => ({
          classifier,
          version: '7.4.0',
          score: 0.25,
          ...provenance,
        })),
        { classifier: 'heuristic_sn_candidate', version: '1.0.0', score: 0.9, ...NO_MODEL },
      ],
    });
  });

  it("keeps the other alerts' scores when one alert makes the batch throw: its scores null, failures counted", async () => {
    const bad = ztfAlert({ candidate: { candid: 42n } });
    const good = ztfAlert();
    const fink = fakeFink((alert) => (alert.alertId === bad.alertId ? 'throw' : 0.5));
    const [first, second] = await run(fink, [good, bad]);
    expect(first!.scores.every((s) => s.score === 0.5)).toBe(true);
    expect(first!.failures).toBeUndefined();
    expect(second!.scores.map((s) => s.score)).toEqual(FINK_ZTF_SCORES.map(() => null));
    expect(second!.failures).toEqual(FINK_ZTF_SCORES.map((classifier) => ({ classifier, reason: 'threw' })));
    // Without Fink's scores the label falls back to roid, tracklet and catalogs.
    expect(second!.label).toBe(LABELS.unknown);
  });

  it.each<[string, number]>([
    ['NaN', NaN],
    ['infinite', Infinity],
  ])('turns a %s score into null, counted as not-a-score', async (_name, value) => {
    const [classification] = await run(
      fakeFink(() => value),
      [ztfAlert()],
    );
    expect(classification!.scores.every((s) => s.score === null)).toBe(true);
    expect(classification!.failures).toHaveLength(FINK_ZTF_SCORES.length);
    expect(classification!.failures!.every((f) => f.reason === 'not-a-score')).toBe(true);
  });

  it("takes cdsxmatch from the nearest overriding catalog's type, 'Unknown' without one", () => {
    expect(cdsxmatchOf(undefined)).toBe('Unknown');
    expect(cdsxmatchOf([match({ overriding: false })])).toBe('Unknown');
    expect(cdsxmatchOf([match({ type: null })])).toBe('Unknown');
    expect(
      cdsxmatchOf([
        match({ type: 'RRLyr', distanceArcsec: 1 }),
        match({ type: 'GinPair', distanceArcsec: 0.2 }),
      ]),
    ).toBe('GinPair');
  });
});

describe("Fink's classifiers in the chain, on the real alerts", () => {
  it('give every stored ZTF alert the scores and label of fink-science 7.4.0 (parity fixture), with provenance', async () => {
    const fink = await createFinkClassifiers(await finkModels());
    const reference = parityReference();
    const pipeline = Pipeline.start<Alert>()
      .step(createQualityCutsStep())
      .step(createRoidStep())
      .step(createFeaturesStep())
      .batch(createClassificationStep({ fink, heuristics: [] }));
    const results = await pipeline.run(realZtfAlerts().map(({ alert }) => alert));
    const off: string[] = [];
    let stored = 0;
    for (const result of results) {
      if (result.kind !== 'ok') continue;
      stored++;
      const { alertId, classification } = result.value;
      const ref = reference.get(alertId.toString())!;
      const knUnknown = !fink.kilonovaInstalled;
      if (classification.label !== ref.finkclass && !(knUnknown && ref.rf_kn_vs_nonkn > 0.5)) {
        off.push(`${alertId} label ${classification.label} vs ${ref.finkclass}`);
      }
      expect(classification.scores.map((s) => s.classifier)).toEqual([...FINK_ZTF_SCORES]);
      for (const s of classification.scores) {
        if (s.classifier === 'rf_kn_vs_nonkn' && knUnknown) {
          expect(s).toMatchObject({ score: null, modelFile: '', modelSha256: '' });
          continue;
        }
        expect(s.modelSha256).toMatch(/^[0-9a-f]{64}$/);
        expect(s.finkScienceVersion).toBe('7.4.0');
        const theirs = ref[s.classifier as (typeof FINK_ZTF_SCORES)[number]];
        if (s.score === null || Math.abs(s.score - theirs) > 1e-4) {
          off.push(`${alertId} ${s.classifier} ${s.score} vs ${theirs}`);
        }
      }
    }
    expect(stored).toBe(570);
    expect(off).toEqual([]);
  }, 120_000);

  it('scores the Rubin alerts with SuperNNova (snnSnVsOthers_score) alone', async () => {
    const fink = await createFinkClassifiers(await finkModels());
    const step = createClassificationStep({ fink, heuristics: [] });
    const alerts = (await realRubinAlerts()).map((alert) => classifierInput(alert));
    for (const result of await step(alerts)) {
      if (result.kind !== 'ok') throw new Error('classification rejected');
      const { scores } = result.value.classification;
      expect(scores.map((s) => s.classifier)).toEqual(['snnSnVsOthers_score']);
      expect(scores[0]!.score).toBeGreaterThanOrEqual(0);
      expect(scores[0]!.modelFile).toMatch(/elasticc/);
    }
  }, 120_000);
});
