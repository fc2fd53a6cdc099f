// Fink's science modules in TypeScript: the scores fink-science 7.4.0 computes for every alert, from the models
// `fink models install` put in the cache, each with its provenance.
//
//   const models = await openInstalledModels(config.models.cacheDir, config.models.finkScienceVersion);
//   const fink = await createFinkClassifiers(models);
//   const sets = await fink.classify([{ alert, roid }]);   // one ScoreSet per input, in order
//
// ZTF: nalerthist, snn_snia_vs_nonia, snn_sn_vs_all, rf_snia_vs_nonia, rf_kn_vs_nonkn, mulens, anomaly_score,
// and Fink's label (finkclass) from them. Fink's broker runs none of this on alerts its cuts drop (rb < 0.55,
// nbad != 0, and i-band candidates): those get `cut` set and null scores.
// Rubin: snnSnVsOthers_score (SuperNNova, ELAsTiCC model elasticc_binary_broad/SN_vs_other), as fink-broker's
// Rubin science step computes it. The early SN Ia rainbow model (elasticc_rainbow_earlyIa_nometa.pkl) is not
// run: its features are a degenerate iminuit fit (light-curve 0.8's RainbowRisingFit) whose result, and Fink's
// probability, one ulp of input moves by more than 1e-4 on half the Rubin alerts it fits (see README).
//
// A score is null when the module does not apply to the survey, when Fink drops the alert before its modules,
// or when its model is not installed (the kilonova forest comes from kndetect: models.kndetectDir). Where Fink
// writes 0 for an alert it does not score (too few points, too old, a solar-system object...), so does this.
import type { Alert } from '../../alert.ts';
import type { RubinAlert } from '../../decode/rubin-avro.ts';
import type { InstalledModels, ModelProvenance } from '../../../models/manifest.ts';
import { KNDETECT_FOREST } from '../../../models/manifest.ts';
import { extractAdFeatures } from './ad-features.ts';
import type { AdFeaturesByBand } from './ad-features.ts';
import { anomalyScores, loadAnomalyModel } from './anomaly.ts';
import { loadForest } from './forest.ts';
import type { ForestHeader, RandomForest } from './forest.ts';
import { knScore } from './kilonova.ts';
import { finkLabel } from './label.ts';
import { mulensScore } from './mulens.ts';
import { finkZtfCut, nalerthist, ztfLightCurve } from './photometry.ts';
import type { FinkZtfCut } from './photometry.ts';
import { rfSniaScore } from './rf-snia.ts';
import { loadSnnModel, snnInput, snnInputZtf, snnScores } from './snn.ts';
import type { SnnModel, SnnModelJson, SnnPoint } from './snn.ts';
import type { RnnSequence } from './lstm-onnx.ts';
import type { FinkLabelInput } from './label.ts';

export const FINK_ZTF_SCORES = [
  'snn_snia_vs_nonia',
  'snn_sn_vs_all',
  'rf_snia_vs_nonia',
  'rf_kn_vs_nonkn',
  'mulens',
  'anomaly_score',
] as const;
export const FINK_RUBIN_SCORES = ['snnSnVsOthers_score'] as const;
export type FinkScoreName = (typeof FINK_ZTF_SCORES)[number] | (typeof FINK_RUBIN_SCORES)[number];

export interface FinkClassifierInput {
  alert: Alert;
  /** Fink's solar-system flag (roid_catcher): 3 = known object, 2 = candidate, ... */
  roid: number;
  /** SIMBAD type of the counterpart; 'Unknown' (the default) without one. */
  cdsxmatch?: string;
  /** Fink's tracklet id ('TRCK_...') when the alert lies on one. */
  tracklet?: string | null;
}

export interface FinkScore {
  classifier: FinkScoreName;
  score: number | null;
  /** Why the score is null: 'survey', 'cut', 'model-not-installed'. */
  missing: 'survey' | 'cut' | 'model-not-installed' | null;
  /** The model file (in the fink-science wheel, or kndetect's) and its SHA-256; null without a model. */
  provenance: ModelProvenance | null;
}

export interface ScoreSet {
  alertId: bigint;
  survey: Alert['survey'];
  /** Why Fink's broker would not run its modules on this alert; null when it would. ZTF only. */
  cut: FinkZtfCut | null;
  /** Detections the alert carries (current + history, negative ones included); null for Rubin. */
  nalerthist: number | null;
  scores: FinkScore[];
  /** Fink's label (fink-filters extract_fink_classification) from the scores; null for Rubin. */
  finkclass: string | null;
}

export interface FinkClassifiers {
  readonly finkScienceVersion: string;
  /** False without kndetect's forest (models.kndetectDir): rf_kn_vs_nonkn is then null, 'model-not-installed'. */
  readonly kilonovaInstalled: boolean;
  /** Scores for a batch of alerts, in input order (the anomaly forests run once per batch). */
  classify(inputs: readonly FinkClassifierInput[]): Promise<ScoreSet[]>;
}

const FILES = {
  snnIa: 'snn/snn_snia_vs_nonia.json',
  snnSn: 'snn/snn_sn_vs_all.json',
  snnRubin: 'snn/elasticc_binary_broad__SN_vs_other.json',
  rfSnia: 'forest/rf_snia_sigmoid',
  mulens: 'forest/mulens_rf',
  kn: 'forest/kn_partial',
  knPcs: 'kn/pcs.json',
  anomalyG: 'models/anomaly_detection/forest_g_AAD.onnx',
  anomalyR: 'models/anomaly_detection/forest_r_AAD.onnx',
  anomalyGMeans: 'models/anomaly_detection/g_means.csv',
  anomalyRMeans: 'models/anomaly_detection/r_means.csv',
} as const;

function forestOf(models: InstalledModels, base: string): RandomForest {
  return loadForest(models.readJson<ForestHeader>(`${base}.json`), models.read(`${base}.bin`));
}

export interface FinkClassifiersOptions {
  /**
   * Apply Fink's cuts before scoring (default true): alerts the broker drops (rb < 0.55, nbad != 0, i band)
   * get null scores. False scores every alert (the parity tests compare with Fink's modules on all of them).
   */
  applyCuts?: boolean;
}

/** Loads every installed model (verifying each file's SHA-256) and returns the classifiers. */
export async function createFinkClassifiers(
  models: InstalledModels,
  options: FinkClassifiersOptions = {},
): Promise<FinkClassifiers> {
  const applyCuts = options.applyCuts ?? true;
  const snnIa = await loadSnnModel(models.readJson<SnnModelJson>(FILES.snnIa), 'snn_snia_vs_nonia');
  const snnSn = await loadSnnModel(models.readJson<SnnModelJson>(FILES.snnSn), 'snn_sn_vs_all');
  const snnRubin = await loadSnnModel(
    models.readJson<SnnModelJson>(FILES.snnRubin),
    'elasticc_binary_broad/SN_vs_other',
  );
  const rfSnia = forestOf(models, FILES.rfSnia);
  const mulensForest = forestOf(models, FILES.mulens);
  const knInstalled = models.manifest.files[KNDETECT_FOREST] !== undefined;
  const kn = knInstalled
    ? {
        forest: forestOf(models, FILES.kn),
        pcs: models.readJson<{ pcs: number[][] }>(FILES.knPcs).pcs.map((pc) => Float64Array.from(pc)),
      }
    : undefined;
  const anomaly = await loadAnomalyModel(
    models.verifiedPath(FILES.anomalyG),
    models.verifiedPath(FILES.anomalyR),
    models.read(FILES.anomalyGMeans).toString('utf8'),
    models.read(FILES.anomalyRMeans).toString('utf8'),
  );
  const provenance: Record<FinkScoreName, ModelProvenance | null> = {
    snn_snia_vs_nonia: models.provenance(FILES.snnIa),
    snn_sn_vs_all: models.provenance(FILES.snnSn),
    rf_snia_vs_nonia: models.provenance(`${FILES.rfSnia}.json`),
    rf_kn_vs_nonkn: knInstalled ? models.provenance(`${FILES.kn}.json`) : null,
    mulens: models.provenance(`${FILES.mulens}.json`),
    anomaly_score: models.provenance(FILES.anomalyG),
    snnSnVsOthers_score: models.provenance(FILES.snnRubin),
  };
  const finkScienceVersion = models.manifest.finkScienceVersion;
  const score = (
    classifier: FinkScoreName,
    value: number | null,
    missing: FinkScore['missing'] = null,
  ): FinkScore => ({ classifier, score: value, missing, provenance: provenance[classifier] });

  return {
    finkScienceVersion,
    kilonovaInstalled: knInstalled,
    async classify(inputs) {
      const sets: ScoreSet[] = [];
      // SuperNNova and the anomaly forests take the whole batch at once (onnxruntime): gather what they score,
      // then the labels, which need SuperNNova's scores.
      const ztfRows: {
        set: number;
        ia: RnnSequence | null;
        sn: RnnSequence | null;
        label: FinkLabelInput;
      }[] = [];
      const snnRubinRows: { set: number; input: RnnSequence | null }[] = [];
      const anomalyRows: { set: number; features: AdFeaturesByBand }[] = [];
      for (const input of inputs) {
        const { alert } = input;
        if (alert.survey === 'lsst') {
          snnRubinRows.push({ set: sets.length, input: snnInputRubin(snnRubin, alert.lsst) });
          sets.push({
            alertId: alert.alertId,
            survey: 'lsst',
            cut: null,
            nalerthist: null,
            scores: [
              ...FINK_ZTF_SCORES.map((name) => score(name, null, 'survey')),
              score('snnSnVsOthers_score', null),
            ],
            finkclass: null,
          });
          continue;
        }
        const record = alert.ztf;
        const candidate = record.candidate;
        const cut = applyCuts ? finkZtfCut(candidate) : null;
        const lc = ztfLightCurve(record);
        const count = nalerthist(lc);
        if (cut !== null) {
          sets.push({
            alertId: alert.alertId,
            survey: 'ztf',
            cut,
            nalerthist: count,
            scores: [
              ...FINK_ZTF_SCORES.map((name) => score(name, null, 'cut')),
              score('snnSnVsOthers_score', null, 'survey'),
            ],
            finkclass: null,
          });
          continue;
        }
        const cdsxmatch = input.cdsxmatch ?? 'Unknown';
        const snnCtx = { roid: input.roid, cdsxmatch, jdstarthist: candidate.jdstarthist };
        const values: Record<(typeof FINK_ZTF_SCORES)[number], number | null> = {
          snn_snia_vs_nonia: null,
          snn_sn_vs_all: null,
          rf_snia_vs_nonia: rfSniaScore(rfSnia, lc, { cdsxmatch, ndethist: candidate.ndethist }),
          rf_kn_vs_nonkn:
            kn === undefined
              ? null
              : knScore(kn.forest, kn.pcs, lc, {
                  cdsxmatch,
                  ndethist: candidate.ndethist,
                  jdstarthist: candidate.jdstarthist,
                }),
          mulens: mulensScore(mulensForest, lc, candidate.ndethist).score,
          anomaly_score: null,
        };
        anomalyRows.push({ set: sets.length, features: extractAdFeatures(lc) });
        ztfRows.push({
          set: sets.length,
          ia: snnInputZtf(snnIa, lc, snnCtx),
          sn: snnInputZtf(snnSn, lc, snnCtx),
          label: {
            cdsxmatch,
            roid: input.roid,
            mulens: values.mulens,
            snn_snia_vs_nonia: null,
            snn_sn_vs_all: null,
            rf_snia_vs_nonia: values.rf_snia_vs_nonia,
            rf_kn_vs_nonkn: values.rf_kn_vs_nonkn,
            ndethist: candidate.ndethist,
            drb: candidate.drb,
            classtar: candidate.classtar,
            jd: candidate.jd,
            jdstarthist: candidate.jdstarthist,
            tracklet: input.tracklet ?? null,
          },
        });
        sets.push({
          alertId: alert.alertId,
          survey: 'ztf',
          cut: null,
          nalerthist: count,
          scores: [
            ...FINK_ZTF_SCORES.map((name) =>
              score(
                name,
                values[name],
                name === 'rf_kn_vs_nonkn' && kn === undefined ? 'model-not-installed' : null,
              ),
            ),
            score('snnSnVsOthers_score', null, 'survey'),
          ],
          finkclass: null,
        });
      }
      const setScore = (set: number, classifier: FinkScoreName, value: number): void => {
        sets[set]!.scores.find((s) => s.classifier === classifier)!.score = value;
      };
      const [ia, sn, rubin] = await Promise.all([
        snnScores(
          snnIa,
          ztfRows.map((row) => row.ia),
        ),
        snnScores(
          snnSn,
          ztfRows.map((row) => row.sn),
        ),
        snnScores(
          snnRubin,
          snnRubinRows.map((row) => row.input),
        ),
      ]);
      ztfRows.forEach((row, i) => {
        setScore(row.set, 'snn_snia_vs_nonia', ia[i]!);
        setScore(row.set, 'snn_sn_vs_all', sn[i]!);
        sets[row.set]!.finkclass = finkLabel({
          ...row.label,
          snn_snia_vs_nonia: ia[i]!,
          snn_sn_vs_all: sn[i]!,
        });
      });
      snnRubinRows.forEach((row, i) => setScore(row.set, 'snnSnVsOthers_score', rubin[i]!));
      if (anomalyRows.length > 0) {
        const scores = await anomalyScores(
          anomaly,
          anomalyRows.map((row) => row.features),
        );
        anomalyRows.forEach((row, i) => setScore(row.set, 'anomaly_score', scores[i]!));
      }
      return sets;
    },
  };
}

/** Rubin's flux (nJy, zero point 31.4) to SNANA's FLUXCAL (zero point 27.5), as fink-science does. */
const RUBIN_TO_FLUXCAL = 10 ** (-(31.4 - 27.5) / 2.5);

/**
 * The network input for snnSnVsOthers_score (fink-science rubin/snn/processor.py snn_ia_elasticc): every
 * diaSource of the alert (prvDiaSources then the triggering one), no cut; bands passed as they are (the model
 * knows 'Y', so Rubin's 'y' points make epochs without a flux, as in Fink). Null (score 0) without a point.
 */
export function snnInputRubin(model: SnnModel, record: RubinAlert): RnnSequence | null {
  const sources = [...(record.prvDiaSources ?? []), record.diaSource];
  const points: SnnPoint[] = [];
  for (const s of sources) {
    if (s.psfFlux === null || s.psfFluxErr === null || s.band === null) continue;
    points.push({
      mjd: s.midpointMjdTai,
      filter: s.band,
      flux: s.psfFlux * RUBIN_TO_FLUXCAL,
      fluxErr: s.psfFluxErr * RUBIN_TO_FLUXCAL,
    });
  }
  return points.length === 0 ? null : snnInput(model, points);
}
