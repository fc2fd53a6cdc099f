// Fink's anomaly score (fink-science 7.4.0 ztf/anomaly_detection/processor.py anomaly_score): the ONNX isolation
// forests shipped in the wheel, run with onnxruntime-node, on the light-curve features of ad-features.ts.
//
// As Fink computes it, for a batch of alerts:
// - an alert whose features do not cover exactly two bands (fid 1 and 2) gets NaN for every feature;
// - the features of fid 1 go to the model's "r" forest and those of fid 2 to its "g" forest (Fink's
//   processor pairs them that way: get_key(x, 1) feeds data_r), each missing value replaced by the mean the
//   model ships for that forest (r_means.csv, g_means.csv);
// - score = (g forest score + r forest score) / 2, in float32; 0 when both bands' features are all NaN.
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { AD_MODEL_COLUMNS } from './ad-features.ts';
import type { AdFeatures, AdFeaturesByBand } from './ad-features.ts';

/** The public model ('') and the per-user models Fink also scores (anomaly_score_beta, ...). */
export const ANOMALY_MODELS = ['', '_beta', '_anais', '_emille', '_julien', '_maria'] as const;
export type AnomalyModelName = (typeof ANOMALY_MODELS)[number];

export interface AnomalyModel {
  forestG: InferenceSession;
  forestR: InferenceSession;
  gMeans: Record<string, number>;
  rMeans: Record<string, number>;
}

/** Reads r_means.csv / g_means.csv (pandas: header-less, first column the index). */
export function parseMeansCsv(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.split(',');
    if (name === undefined || name === '' || value === undefined) continue;
    const number = Number(value);
    if (Number.isFinite(number)) out[name] = number;
  }
  for (const column of AD_MODEL_COLUMNS) {
    if (out[column] === undefined) throw new Error(`anomaly means CSV lacks ${column}`);
  }
  return out;
}

export async function loadAnomalyModel(
  forestGPath: string,
  forestRPath: string,
  gMeansCsv: string,
  rMeansCsv: string,
): Promise<AnomalyModel> {
  // One thread: the pipeline runs one classifier batch at a time per service, and the forests are small.
  // Severity 3 (errors only): the shipped forests declare a 1-D output and return [n, 1], which onnxruntime
  // reports as a warning on every run.
  const options: InferenceSession.SessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  const [forestG, forestR] = await Promise.all([
    InferenceSession.create(forestGPath, options),
    InferenceSession.create(forestRPath, options),
  ]);
  return { forestG, forestR, gMeans: parseMeansCsv(gMeansCsv), rMeans: parseMeansCsv(rMeansCsv) };
}

function allNaN(features: AdFeatures | undefined): boolean {
  return features === undefined || AD_MODEL_COLUMNS.every((c) => Number.isNaN(features[c]));
}

async function runForest(session: InferenceSession, data: Float32Array, rows: number): Promise<Float32Array> {
  const input = new Tensor('float32', data, [rows, AD_MODEL_COLUMNS.length]);
  const outputs = await session.run({ [session.inputNames[0]!]: input });
  const output = outputs[session.outputNames.at(-1)!]!;
  return output.data as Float32Array;
}

/** anomaly_score for a batch: one score per alert, in order. */
export async function anomalyScores(
  model: AnomalyModel,
  batch: readonly AdFeaturesByBand[],
): Promise<number[]> {
  const rows = batch.length;
  if (rows === 0) return [];
  const width = AD_MODEL_COLUMNS.length;
  const dataR = new Float32Array(rows * width);
  const dataG = new Float32Array(rows * width);
  const masked: boolean[] = [];
  batch.forEach((bands, i) => {
    const usable = bands.size === 2 && bands.has(1) && bands.has(2);
    const fid1 = usable ? bands.get(1) : undefined;
    const fid2 = usable ? bands.get(2) : undefined;
    masked.push(allNaN(fid1) && allNaN(fid2));
    AD_MODEL_COLUMNS.forEach((column, j) => {
      const r = fid1?.[column] ?? Number.NaN;
      const g = fid2?.[column] ?? Number.NaN;
      dataR[i * width + j] = Number.isNaN(r) ? model.rMeans[column]! : r;
      dataG[i * width + j] = Number.isNaN(g) ? model.gMeans[column]! : g;
    });
  });
  const [scoresG, scoresR] = await Promise.all([
    runForest(model.forestG, dataG, rows),
    runForest(model.forestR, dataR, rows),
  ]);
  return masked.map((m, i) => (m ? 0 : Math.fround((scoresG[i]! + scoresR[i]!) / 2)));
}
