// Parity with Fink: the TypeScript modules against fink-science 7.4.0's own functions, run by
// scripts/parity/run-reference.sh on the 611 real ZTF alerts of ../shared (608 distinct: three alerts are there
// twice). The fixture holds Fink's scores, its label, and intermediate values (features, DC magnitudes), so a
// failure says whether the features or the model differ.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createZtfDecoder } from '../../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert } from '../../../src/pipeline/decode/ztf-avro.ts';
import { ztfToAlert } from '../../../src/pipeline/decode/ztf-alert.ts';
import { KNDETECT_FOREST } from '../../../src/models/manifest.ts';
import type { InstalledModels } from '../../../src/models/manifest.ts';
import { AD_MODEL_COLUMNS, extractAdFeatures } from '../../../src/pipeline/classifiers/fink/ad-features.ts';
import { createFinkClassifiers, FINK_ZTF_SCORES } from '../../../src/pipeline/classifiers/fink/index.ts';
import type { ScoreSet } from '../../../src/pipeline/classifiers/fink/index.ts';
import { loadForest } from '../../../src/pipeline/classifiers/fink/forest.ts';
import type { ForestHeader } from '../../../src/pipeline/classifiers/fink/forest.ts';
import { knFeatures } from '../../../src/pipeline/classifiers/fink/kilonova.ts';
import { finkLabel } from '../../../src/pipeline/classifiers/fink/label.ts';
import { mulensScore } from '../../../src/pipeline/classifiers/fink/mulens.ts';
import { dcMag, ztfLightCurve } from '../../../src/pipeline/classifiers/fink/photometry.ts';
import type { ZtfLightCurve } from '../../../src/pipeline/classifiers/fink/photometry.ts';
import {
  rfSniaApplies,
  rfSniaScore,
  sigmoidFeatures,
} from '../../../src/pipeline/classifiers/fink/rf-snia.ts';
import { ztfRoid, ztfRoidInput } from '../../../src/pipeline/steps/roid.step.ts';
import { PROJECT_ROOT } from '../../../src/project.ts';
import { finkModels } from '../../helpers/fink-models.ts';
import { ztfAlertFiles } from '../../helpers/shared-data.ts';

type Num = number | null;
interface ReferenceAlert {
  candid: string;
  roid: number;
  finkclass: string;
  nalerthist: number;
  dcmag: Num[];
  dcmagErr: Num[];
  snn_snia_vs_nonia: number;
  snn_sn_vs_all: number;
  rf_snia_vs_nonia: number;
  rf_kn_vs_nonkn: number;
  mulens: number;
  anomaly_score: number;
  rf_snia_features: number[];
  kilonova_features: number[];
  mulens_features: Record<string, { stats: number[]; class: string; proba: number[] }> | null;
  lc_features?: Record<string, Record<string, Num>>;
}
interface SyntheticCase {
  jd: number[];
  fid: number[];
  magpsf: number[];
  sigmapsf: number[];
  score: number;
  features: number[];
}
interface Reference {
  meta: {
    alerts: number;
    duplicatesSkipped: string[];
    unavailable: Record<string, string>;
    finkScienceVersion: string;
  };
  alerts: ReferenceAlert[];
  synthetic_rf_snia: SyntheticCase[];
}

const FIXTURE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'fink-parity', 'ztf-reference.json');
const TOLERANCE = 1e-4;

const reference = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Reference;
const byCandid = new Map(reference.alerts.map((r) => [r.candid, r]));

let models: InstalledModels;
let records: ZtfAlert[];
let sets: ScoreSet[];

beforeAll(async () => {
  models = await finkModels();
  const decoder = createZtfDecoder();
  const decoded = ztfAlertFiles().map((file) => decoder.decodeWithSchema(readFileSync(file)));
  records = decoded.map((d) => d.alert);
  const fink = await createFinkClassifiers(models, { applyCuts: false });
  sets = await fink.classify(
    decoded.map(({ alert, schemaJson }) => ({
      alert: ztfToAlert(alert, schemaJson),
      roid: refOf(alert).roid,
    })),
  );
}, 300_000);

function refOf(alert: ZtfAlert): ReferenceAlert {
  const ref = byCandid.get(String(alert.candid));
  if (ref === undefined) throw new Error(`alert ${alert.candid} is not in the parity fixture`);
  return ref;
}

function knInstalled(): boolean {
  return models.manifest.files[KNDETECT_FOREST] !== undefined;
}

describe('the parity fixture', () => {
  it('covers the 611 shared alerts with every module of fink-science 7.4.0', () => {
    expect(ztfAlertFiles()).toHaveLength(611);
    expect(reference.meta.alerts + reference.meta.duplicatesSkipped.length).toBe(611);
    expect(reference.meta.unavailable).toEqual({});
    expect(reference.meta.finkScienceVersion).toBe('7.4.0');
  });
});

describe.each(FINK_ZTF_SCORES.filter((name) => name !== 'rf_kn_vs_nonkn'))('%s', (name) => {
  it(`equals fink-science 7.4.0 within ${TOLERANCE} on every alert`, () => {
    const off = sets.flatMap((set, i) => {
      const ours = set.scores.find((s) => s.classifier === name)!.score;
      const theirs = refOf(records[i]!)[name];
      return ours !== null && Math.abs(ours - theirs) <= TOLERANCE
        ? []
        : [`${set.alertId}: ${ours} vs ${theirs}`];
    });
    expect(off).toEqual([]);
  });
});

describe('rf_kn_vs_nonkn', () => {
  it(`equals fink-science 7.4.0 within ${TOLERANCE} on every alert when kndetect's model is installed`, () => {
    const scores = sets.map((set) => set.scores.find((s) => s.classifier === 'rf_kn_vs_nonkn')!);
    if (!knInstalled()) {
      // models.kndetectDir unset: the score is missing, and says why.
      expect(new Set(scores.map((s) => `${s.score}/${s.missing}`))).toEqual(
        new Set(['null/model-not-installed']),
      );
      return;
    }
    const off = scores.flatMap((s, i) => {
      const theirs = refOf(records[i]!).rf_kn_vs_nonkn;
      return s.score !== null && Math.abs(s.score - theirs) <= TOLERANCE
        ? []
        : [`${sets[i]!.alertId}: ${s.score} vs ${theirs}`];
    });
    expect(off).toEqual([]);
    expect(scores.filter((s) => s.score! > 0)).toHaveLength(
      records.filter((r) => refOf(r).rf_kn_vs_nonkn > 0).length,
    );
  });

  it("kndetect's features match up to L-BFGS-B's tolerance (Fink's optimiser stops within ~1e-5 of the minimum)", () => {
    if (!knInstalled()) return;
    const pcs = models.readJson<{ pcs: number[][] }>('kn/pcs.json').pcs.map((pc) => Float64Array.from(pc));
    const off = records.flatMap((record) => {
      const ours = knFeatures(ztfLightCurve(record), pcs).features;
      const theirs = refOf(record).kilonova_features;
      return ours.flatMap((v, k) =>
        Math.abs(v - theirs[k]!) <= 1e-4 + 1e-5 * Math.abs(theirs[k]!)
          ? []
          : [`${record.candid}[${k}]: ${v} vs ${theirs[k]}`],
      );
    });
    expect(off).toEqual([]);
  });
});

describe("the project's roid stage", () => {
  it("equals fink-science's roid_catcher on every alert (so the label can use it)", () => {
    const off = records.filter((r) => ztfRoid(ztfRoidInput(r)) !== refOf(r).roid);
    expect(off.map((r) => String(r.candid))).toEqual([]);
    expect(new Set(records.map((r) => refOf(r).roid))).toEqual(new Set([0, 1, 2, 3]));
  });
});

describe('nalerthist', () => {
  it('counts the detections (negative ones included) as Fink does, on every alert', () => {
    const off = sets.filter((set, i) => set.nalerthist !== refOf(records[i]!).nalerthist);
    expect(off.map((s) => String(s.alertId))).toEqual([]);
  });
});

describe("Fink's label", () => {
  it("fink-filters' rules on the reference scores give the reference label on every alert", () => {
    const off = records.flatMap((record) => {
      const ref = refOf(record);
      const c = record.candidate;
      const label = finkLabel({
        cdsxmatch: 'Unknown',
        roid: ref.roid,
        mulens: ref.mulens,
        snn_snia_vs_nonia: ref.snn_snia_vs_nonia,
        snn_sn_vs_all: ref.snn_sn_vs_all,
        rf_snia_vs_nonia: ref.rf_snia_vs_nonia,
        rf_kn_vs_nonkn: ref.rf_kn_vs_nonkn,
        ndethist: c.ndethist,
        drb: c.drb,
        classtar: c.classtar,
        jd: c.jd,
        jdstarthist: c.jdstarthist,
        tracklet: '',
      });
      return label === ref.finkclass ? [] : [`${record.candid}: ${label} vs ${ref.finkclass}`];
    });
    expect(off).toEqual([]);
  });

  it('from our own scores equals the reference label on every alert (Kilonova candidates need kndetect)', () => {
    const off = sets.flatMap((set, i) => {
      const ref = refOf(records[i]!);
      if (!knInstalled() && ref.rf_kn_vs_nonkn > 0.5) return [];
      return set.finkclass === ref.finkclass ? [] : [`${set.alertId}: ${set.finkclass} vs ${ref.finkclass}`];
    });
    expect(off).toEqual([]);
    const labels = new Set(reference.alerts.map((r) => r.finkclass));
    expect(labels).toContain('SN candidate');
    expect(labels).toContain('Solar System MPC');
  });
});

describe('DC magnitudes', () => {
  it("equal fink-utils' vect_dc_mag on every point of every alert (NaN where Fink's is NaN)", () => {
    const off = records.flatMap((record) => {
      const ref = refOf(record);
      const lc = ztfLightCurve(record);
      return Array.from(lc.jd, (_, i) => {
        const { mag, magErr } = dcMag(
          lc.magpsf[i]!,
          lc.sigmapsf[i]!,
          lc.magnr[i]!,
          lc.sigmagnr[i]!,
          lc.isdiffpos[i]!,
        );
        const same = (ours: number, theirs: Num): boolean =>
          theirs === null
            ? !Number.isFinite(ours)
            : Math.abs(ours - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs));
        return same(mag, ref.dcmag[i]!) && same(magErr, ref.dcmagErr[i]!) ? [] : [`${record.candid}[${i}]`];
      }).flat();
    });
    expect(off).toEqual([]);
    const negative = records.filter((r) => r.candidate.isdiffpos === 'f' || r.candidate.isdiffpos === '0');
    expect(negative.length).toBeGreaterThan(0);
  });
});

describe('anomaly features (light-curve)', () => {
  it('equal the reference to 1e-9 for every band of every alert, bands refused by light-curve included', () => {
    const off = records.flatMap((record) => {
      const ref = refOf(record).lc_features ?? {};
      const ours = extractAdFeatures(ztfLightCurve(record));
      if ([...ours.keys()].map(String).sort().join() !== Object.keys(ref).sort().join())
        return [`${record.candid}: bands`];
      return [...ours].flatMap(([band, features]) =>
        AD_MODEL_COLUMNS.flatMap((column) => {
          const theirs = ref[String(band)]![column]!;
          const v = features[column];
          const same =
            theirs === null ? Number.isNaN(v) : Math.abs(v - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs));
          return same ? [] : [`${record.candid}/${band}/${column}: ${v} vs ${theirs}`];
        }),
      );
    });
    expect(off).toEqual([]);
  });
});

describe("microlensing (LIA's statistics)", () => {
  it('per band: the 47 statistics to 1e-7 and the same class, wherever Fink classifies', () => {
    const forest = loadForest(
      models.readJson<ForestHeader>('forest/mulens_rf.json'),
      models.read('forest/mulens_rf.bin'),
    );
    let classified = 0;
    const off = records.flatMap((record) => {
      const ref = refOf(record).mulens_features;
      const ours = mulensScore(forest, ztfLightCurve(record), record.candidate.ndethist);
      if (ref === null) return ours.bands.size === 0 ? [] : [`${record.candid}: classified`];
      return Object.entries(ref).flatMap(([band, theirs]) => {
        const mine = ours.bands.get(Number(band));
        if (mine === undefined) return [`${record.candid}/${band}: missing`];
        classified++;
        const stats = mine.stats.flatMap((v, k) =>
          Math.abs(v - theirs.stats[k]!) <= 1e-7 * Math.max(1, Math.abs(theirs.stats[k]!))
            ? []
            : [`${record.candid}/${band}/${k}`],
        );
        return mine.label === theirs.class
          ? stats
          : [...stats, `${record.candid}/${band}: ${mine.label} vs ${theirs.class}`];
      });
    });
    expect(off).toEqual([]);
    expect(classified).toBeGreaterThan(20);
  });
});

describe('early SN Ia (actsnfink sigmoid features)', () => {
  it('real alerts: the same features wherever Fink computes them (none has a light curve rising in both bands)', () => {
    let computed = 0;
    const off = records.flatMap((record) => {
      const theirs = refOf(record).rf_snia_features;
      const lc = ztfLightCurve(record);
      // Fink writes 0 for every feature of an alert it does not score.
      if (theirs.every((v) => v === 0)) {
        return rfSniaApplies(lc, { cdsxmatch: 'Unknown', ndethist: record.candidate.ndethist })
          ? [String(record.candid)]
          : [];
      }
      computed++;
      const ours = sigmoidFeatures(lc);
      return ours.every((v, k) => Math.abs(v - theirs[k]!) <= 1e-9 * Math.max(1, Math.abs(theirs[k]!)))
        ? []
        : [String(record.candid)];
    });
    expect(off).toEqual([]);
    expect(computed).toBeGreaterThan(50);
  });

  // Case 22: scipy stops at its 300-evaluation limit while zig-zagging across the kink of |residual| (actsnfink
  // fits |flux - sigmoid|); after ~280 iterations the point reached depends on the last bits of the SVD (LAPACK's
  // versus ours), so a_r differs by 5e-4 relative and the probability by 0.002. Fink's problem is ill-posed there.
  const PATH_DEPENDENT = new Set([22]);

  it.each(reference.synthetic_rf_snia.map((c, i) => [i, c] as const))(
    'synthetic light curve %i: features and score equal actsnfink + the forest',
    (i, c) => {
      const n = c.jd.length;
      const nan = new Float64Array(n).fill(Number.NaN);
      const lc: ZtfLightCurve = {
        jd: Float64Array.from(c.jd),
        fid: Int32Array.from(c.fid),
        magpsf: Float64Array.from(c.magpsf),
        sigmapsf: Float64Array.from(c.sigmapsf),
        magnr: nan,
        sigmagnr: nan,
        distnr: nan,
        diffmaglim: nan,
        isdiffpos: new Array<string>(n).fill('t'),
      };
      const forest = loadForest(
        models.readJson<ForestHeader>('forest/rf_snia_sigmoid.json'),
        models.read('forest/rf_snia_sigmoid.bin'),
      );
      const features = sigmoidFeatures(lc);
      const score = rfSniaScore(forest, lc, { cdsxmatch: 'Unknown', ndethist: Math.min(20, n) });
      const [featureTol, scoreTol] = PATH_DEPENDENT.has(i) ? [1e-2, 1e-2] : [1e-6, TOLERANCE];
      features.forEach((v, k) =>
        expect(Math.abs(v - c.features[k]!)).toBeLessThanOrEqual(
          featureTol * Math.max(1, Math.abs(c.features[k]!)),
        ),
      );
      expect(Math.abs(score - c.score)).toBeLessThanOrEqual(scoreTol);
    },
  );
});
