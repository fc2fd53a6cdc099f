// CPU per alert of each of Fink's classifiers (src/pipeline/classifiers/fink) on the real ZTF alerts, one core:
// every module on every alert (Fink's cuts not applied, so the figures are for the whole stream: a module that
// skips an alert, too few points, too old, costs almost nothing on it), then the whole classify() per batch.
// Models come from the cache `fink models install` fills (installed first when missing).
import { readFileSync } from 'node:fs';
import { installConfiguredModels } from '../src/cli/models-command.ts';
import { loadConfig } from '../src/config.ts';
import { KNDETECT_FOREST, openInstalledModels } from '../src/models/manifest.ts';
import { extractAdFeatures } from '../src/pipeline/classifiers/fink/ad-features.ts';
import { anomalyScores, loadAnomalyModel } from '../src/pipeline/classifiers/fink/anomaly.ts';
import { loadForest } from '../src/pipeline/classifiers/fink/forest.ts';
import type { ForestHeader } from '../src/pipeline/classifiers/fink/forest.ts';
import { createFinkClassifiers } from '../src/pipeline/classifiers/fink/index.ts';
import { knScore } from '../src/pipeline/classifiers/fink/kilonova.ts';
import { finkLabel } from '../src/pipeline/classifiers/fink/label.ts';
import { mulensScore } from '../src/pipeline/classifiers/fink/mulens.ts';
import { nalerthist, ztfLightCurve } from '../src/pipeline/classifiers/fink/photometry.ts';
import { rfSniaScore } from '../src/pipeline/classifiers/fink/rf-snia.ts';
import { loadSnnModel, snnInputZtf, snnScores } from '../src/pipeline/classifiers/fink/snn.ts';
import type { SnnModelJson } from '../src/pipeline/classifiers/fink/snn.ts';
import { createZtfDecoder } from '../src/pipeline/decode/ztf-avro.ts';
import type { Alert } from '../src/pipeline/alert.ts';
import { Pipeline } from '../src/pipeline/framework.ts';
import { createClassificationStep } from '../src/pipeline/steps/classification.step.ts';
import { createFeaturesStep } from '../src/pipeline/steps/features.step.ts';
import { createQualityCutsStep } from '../src/pipeline/steps/quality.step.ts';
import { createRoidStep } from '../src/pipeline/steps/roid.step.ts';
import { ztfToAlert } from '../src/pipeline/decode/ztf-alert.ts';
import { realZtfFiles } from './decode.bench.ts';
import { envInteger } from './env.ts';
import type { BenchmarkResult } from './run.ts';

/** CPU microseconds per alert of `work` over `rounds` passes of `count` alerts, after one warm-up pass. */
async function cpuPerAlert(count: number, rounds: number, work: () => unknown): Promise<number> {
  await work();
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (rounds * count);
}

export async function finkClassifiersBenchmark(): Promise<BenchmarkResult[]> {
  const rounds = envInteger('BENCH_FINK_ROUNDS', 5, 1);
  const config = loadConfig();
  await installConfiguredModels(config, () => undefined);
  const models = await openInstalledModels(config.models.cacheDir, config.models.finkScienceVersion);
  const decoder = createZtfDecoder();
  const decoded = realZtfFiles().map((file) => decoder.decodeWithSchema(readFileSync(file)));
  const records = decoded.map((d) => d.alert);
  const n = records.length;
  const ctx = (i: number) => ({
    roid: 0,
    cdsxmatch: 'Unknown',
    jdstarthist: records[i]!.candidate.jdstarthist,
    ndethist: records[i]!.candidate.ndethist,
  });
  const forest = (base: string) =>
    loadForest(models.readJson<ForestHeader>(`${base}.json`), models.read(`${base}.bin`));
  const snnIa = await loadSnnModel(
    models.readJson<SnnModelJson>('snn/snn_snia_vs_nonia.json'),
    'snn_snia_vs_nonia',
  );
  const rf = forest('forest/rf_snia_sigmoid');
  const mulens = forest('forest/mulens_rf');
  const anomaly = await loadAnomalyModel(
    models.verifiedPath('models/anomaly_detection/forest_g_AAD.onnx'),
    models.verifiedPath('models/anomaly_detection/forest_r_AAD.onnx'),
    models.read('models/anomaly_detection/g_means.csv').toString('utf8'),
    models.read('models/anomaly_detection/r_means.csv').toString('utf8'),
  );

  const micro: Record<string, number> = {};
  micro['light curve (concatenated columns)'] = await cpuPerAlert(n, rounds, () =>
    records.map(ztfLightCurve),
  );
  const lcs = records.map(ztfLightCurve);
  micro.nalerthist = await cpuPerAlert(n, rounds, () => lcs.map(nalerthist));
  micro['snn (one model, onnxruntime, one batch)'] = await cpuPerAlert(n, rounds, () =>
    snnScores(
      snnIa,
      lcs.map((lc, i) => snnInputZtf(snnIa, lc, ctx(i))),
    ),
  );
  micro.rf_snia_vs_nonia = await cpuPerAlert(n, rounds, () =>
    lcs.map((lc, i) => rfSniaScore(rf, lc, ctx(i))),
  );
  if (models.manifest.files[KNDETECT_FOREST] !== undefined) {
    const kn = forest('forest/kn_partial');
    const pcs = models.readJson<{ pcs: number[][] }>('kn/pcs.json').pcs.map((pc) => Float64Array.from(pc));
    micro.rf_kn_vs_nonkn = await cpuPerAlert(n, rounds, () =>
      lcs.map((lc, i) => knScore(kn, pcs, lc, ctx(i))),
    );
  }
  micro.mulens = await cpuPerAlert(n, rounds, () =>
    lcs.map((lc, i) => mulensScore(mulens, lc, records[i]!.candidate.ndethist)),
  );
  micro['anomaly features (light-curve)'] = await cpuPerAlert(n, rounds, () => lcs.map(extractAdFeatures));
  const features = lcs.map(extractAdFeatures);
  micro['anomaly forests (onnxruntime, one batch)'] = await cpuPerAlert(n, rounds, () =>
    anomalyScores(anomaly, features),
  );
  micro.finkclass = await cpuPerAlert(n, rounds, () =>
    records.map((r) =>
      finkLabel({
        cdsxmatch: 'Unknown',
        roid: 0,
        mulens: 0,
        snn_snia_vs_nonia: 0.6,
        snn_sn_vs_all: 0.6,
        rf_snia_vs_nonia: 0,
        rf_kn_vs_nonkn: 0,
        ndethist: r.candidate.ndethist,
        drb: r.candidate.drb,
        classtar: r.candidate.classtar,
        jd: r.candidate.jd,
        jdstarthist: r.candidate.jdstarthist,
        tracklet: null,
      }),
    ),
  );

  const fink = await createFinkClassifiers(models, { applyCuts: false });
  const inputs = decoded.map(({ alert, schemaJson }) => ({ alert: ztfToAlert(alert, schemaJson), roid: 0 }));
  const whole = await cpuPerAlert(n, rounds, () => fink.classify(inputs));

  // The stage as raw2science runs it: on the alerts its earlier stages keep (quality cuts, roid, features), in
  // batches of the configured size, provenance and label included.
  const batchSize = config.pipeline.batchMaxMessages;
  const prepared = (
    await Pipeline.start<Alert>()
      .step(createQualityCutsStep())
      .step(createRoidStep())
      .step(createFeaturesStep())
      .run(inputs.map(({ alert }) => alert))
  ).flatMap((result) => (result.kind === 'ok' ? [{ ...result.value, crossmatches: [] }] : []));
  const stage = createClassificationStep({ fink: await createFinkClassifiers(models), heuristics: [] });
  // The configured batch size, and small batches (a quiet stream) where the per-batch costs show.
  const stageUs = new Map<number, number>();
  for (const size of [...new Set([batchSize, 50])]) {
    stageUs.set(
      size,
      await cpuPerAlert(prepared.length, rounds, async () => {
        for (let i = 0; i < prepared.length; i += size) await stage(prepared.slice(i, i + size));
      }),
    );
  }

  const what = `${n} real ZTF alerts x ${rounds}, one core, CPU time per alert`;
  return [
    ...Object.entries(micro).map(([name, us]) => ({
      name: `fink classifier: ${name} (${what})`,
      figures: { 'µs/alert': Math.round(us) },
    })),
    {
      name: `fink classifiers: classify() of every module, batch of ${n} (${what})`,
      figures: { 'µs/alert': Math.round(whole), 'alerts/s/core': Math.round(1e6 / whole) },
    },
    ...[...stageUs].map(([size, us]) => ({
      name:
        `fink classifiers: raw2science's classification stage on the ${prepared.length} alerts passing the ` +
        `cuts, batches of ${size} (x ${rounds}, one core, CPU time per stored alert)`,
      figures: { 'µs/alert': Math.round(us), 'alerts/s/core': Math.round(1e6 / us) },
    })),
  ];
}
