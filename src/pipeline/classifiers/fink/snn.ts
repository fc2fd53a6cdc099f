// SuperNNova on ZTF alerts, as fink-science 7.4.0 computes snn_snia_vs_nonia and snn_sn_vs_all
// (fink_science/ztf/snn/processor.py snn_ia, then supernnova's validate_onthefly.classify_lcs).
//
// Applicability (apply_selection_cuts_ztf), else the score is 0:
//   at least 2 points with a magnitude; jd(candidate) - jdstarthist <= 90; roid != 3; cdsxmatch a possible host.
// The light curve SuperNNova sees (fink-utils format_data_as_snana, then supernnova):
//   - one row per point with a magnitude and an error: FLUXCAL = 10^(-0.4 m + 11) (zero point 27.5), its error,
//     filter g/r/i from fid 1/2/3, MJD = jd as is; upper limits dropped (pdf.dropna());
//   - sorted by time; points closer than 0.33 day to the start of the current group join it (the group keeps its
//     first time); within a group and a filter the point with the smallest FLUXCALERR is kept;
//   - one row per group with FLUXCAL_g, FLUXCAL_r and errors (0 where a filter has no point: i-band points make
//     rows of zeros), the filter combination seen ('g', 'r', 'gr' or none) one-hot, delta_time = time since the
//     previous group (0 first); values rounded to float32 as SuperNNova stores them;
//   - fluxes, errors and delta_time clipped at the training minimum, then log(x - min + 1e-5), standardised
//     with the model's data_norm.json.
// The score is the probability of class 0 (Ia, resp. SN) of the vanilla bidirectional LSTM (lstm.ts).
import { vanillaRnnFromStateDict } from './lstm.ts';
import type { TorchTensorJson, VanillaRnnWeights } from './lstm.ts';
import { createBatchedRnn } from './lstm-onnx.ts';
import type { BatchedRnn, RnnSequence } from './lstm-onnx.ts';
import { countValid, EXTRAGALACTIC_HOST_TYPES, mag2fluxcalSnana } from './photometry.ts';
import type { ZtfLightCurve } from './photometry.ts';

/** SuperNNova's model file as `fink models install` converts it (scripts/models/convert-models.py). */
export interface SnnModelJson {
  format: 'fink-snn-1';
  cliArgs: {
    model: string;
    layer_type: string;
    hidden_dim: number;
    num_layers: number;
    bidirectional: boolean;
    rnn_output_option: string;
    list_filters: string[];
    norm: string;
    training_features: string[];
    training_features_to_normalize: string[];
    nb_classes: number;
  };
  dataNorm: Record<string, { min: number; mean: number; std: number }>;
  weights: Record<string, TorchTensorJson>;
}

export interface SnnModel {
  net: VanillaRnnWeights;
  /** The network run by onnxruntime over many light curves at once. */
  rnn: BatchedRnn;
  filters: string[];
  /** What each input of the network is, in order. */
  inputs: SnnInput[];
}

type SnnInput =
  | { kind: 'flux'; filter: string; min: number; mean: number; std: number }
  | { kind: 'fluxErr'; filter: string; min: number; mean: number; std: number }
  | { kind: 'deltaTime'; min: number; mean: number; std: number }
  | { kind: 'filters'; combination: string };

/** Checks that the model is one this implementation evaluates exactly, and prepares it. */
export async function loadSnnModel(json: SnnModelJson, name: string): Promise<SnnModel> {
  const args = json.cliArgs;
  const unsupported = (what: string): never => {
    throw new Error(
      `SuperNNova model ${name}: ${what} is not supported (vanilla bidirectional LSTM, mean output, global norm)`,
    );
  };
  if (json.format !== 'fink-snn-1') unsupported(`format ${String(json.format)}`);
  if (args.model !== 'vanilla') unsupported(`model ${args.model}`);
  if (args.layer_type !== 'lstm') unsupported(`layer ${args.layer_type}`);
  if (!args.bidirectional) unsupported('a unidirectional RNN');
  if (args.rnn_output_option !== 'mean') unsupported(`output ${args.rnn_output_option}`);
  if (args.norm !== 'global') unsupported(`norm ${args.norm}`);
  const filters = args.list_filters;
  const combinations = filterCombinations(filters);
  const normOf = (feature: string): { min: number; mean: number; std: number } => {
    const norm = json.dataNorm[feature];
    if (norm === undefined) throw new Error(`SuperNNova model ${name}: no normalisation for ${feature}`);
    return norm;
  };
  const inputs = args.training_features.map((feature): SnnInput => {
    const flux = /^FLUXCAL_(.+)$/.exec(feature);
    if (flux) return { kind: 'flux', filter: flux[1]!, ...normOf(feature) };
    const err = /^FLUXCALERR_(.+)$/.exec(feature);
    if (err) return { kind: 'fluxErr', filter: err[1]!, ...normOf(feature) };
    if (feature === 'delta_time') return { kind: 'deltaTime', ...normOf(feature) };
    if (combinations.includes(feature)) return { kind: 'filters', combination: feature };
    return unsupported(`input feature ${feature}`);
  });
  for (const input of inputs) {
    if (input.kind !== 'filters' && !args.training_features_to_normalize.some((f) => normalised(f, input))) {
      unsupported(`an unnormalised ${input.kind} input`);
    }
  }
  const net = vanillaRnnFromStateDict(json.weights, args.num_layers, args.hidden_dim);
  return { net, rnn: await createBatchedRnn(net), filters, inputs };
}

function normalised(feature: string, input: SnnInput): boolean {
  if (input.kind === 'flux') return feature === `FLUXCAL_${input.filter}`;
  if (input.kind === 'fluxErr') return feature === `FLUXCALERR_${input.filter}`;
  return input.kind === 'deltaTime' && feature === 'delta_time';
}

/** itertools.combinations of the filters, every length, joined: g, r, gr for ['g', 'r']. */
function filterCombinations(filters: readonly string[]): string[] {
  const out: string[] = [];
  const choose = (start: number, k: number, prefix: string): void => {
    if (k === 0) {
      out.push(prefix);
      return;
    }
    for (let i = start; i < filters.length; i++) choose(i + 1, k - 1, prefix + filters[i]);
  };
  for (let k = 1; k <= filters.length; k++) choose(0, k, '');
  return out;
}

/** One photometric point as SuperNNova takes it. */
export interface SnnPoint {
  mjd: number;
  filter: string;
  flux: number;
  fluxErr: number;
}

/** Points closer than this to the start of the current group are one epoch (supernnova make_dataset). */
const GROUP_DAYS = 0.33;

/** The network's input (steps x inputs) for one light curve, as classify_lcs builds it. */
export function snnInput(
  model: Pick<SnnModel, 'filters' | 'inputs'>,
  points: readonly SnnPoint[],
): RnnSequence {
  const sorted = [...points].sort((a, b) => a.mjd - b.mjd);
  // Epochs: a point starts a new one when it is the first, has the same time as the previous point, or lies more
  // than 0.33 day after the time the current epoch started.
  const epochs: { mjd: number; best: Map<string, SnnPoint> }[] = [];
  let lastChange = 0;
  let previous: number | undefined;
  for (const point of sorted) {
    const dt = previous === undefined ? 0 : point.mjd - previous;
    previous = point.mjd;
    let epoch = epochs.at(-1);
    if (epoch === undefined || dt === 0 || point.mjd - lastChange > GROUP_DAYS) {
      lastChange = point.mjd;
      if (epoch === undefined || epoch.mjd !== point.mjd) {
        epoch = { mjd: point.mjd, best: new Map() };
        epochs.push(epoch);
      }
    }
    const kept = epoch.best.get(point.filter);
    if (kept === undefined || point.fluxErr < kept.fluxErr) epoch.best.set(point.filter, point);
  }

  const width = model.inputs.length;
  const input = new Float64Array(epochs.length * width);
  epochs.forEach((epoch, t) => {
    const seen = model.filters.filter((f) => epoch.best.has(f)).join('');
    const deltaTime = Math.fround(t === 0 ? 0 : epoch.mjd - epochs[t - 1]!.mjd);
    model.inputs.forEach((spec, j) => {
      let value: number;
      if (spec.kind === 'filters') {
        value = seen === spec.combination ? 1 : 0;
      } else {
        let raw: number;
        if (spec.kind === 'deltaTime') raw = deltaTime;
        else {
          const point = epoch.best.get(spec.filter);
          raw = point === undefined ? 0 : Math.fround(spec.kind === 'flux' ? point.flux : point.fluxErr);
        }
        const clipped = Math.max(raw, spec.min);
        value = (Math.log(clipped - spec.min + 1e-5) - spec.mean) / spec.std;
      }
      input[t * width + j] = Math.fround(value);
    });
  });
  return { input, steps: epochs.length };
}

/**
 * P(class 0) (Ia for snn_snia_vs_nonia, SN for snn_sn_vs_all...) of each light curve, in one batched run: 0 where
 * the input is null (Fink's value for an alert it does not score), NaN for a light curve without an epoch.
 */
export async function snnScores(model: SnnModel, inputs: readonly (RnnSequence | null)[]): Promise<number[]> {
  const scored = inputs.filter((input): input is RnnSequence => input !== null && input.steps > 0);
  const probabilities = scored.length > 0 ? await model.rnn.predict(scored) : [];
  let next = 0;
  return inputs.map((input) =>
    input === null ? 0 : input.steps === 0 ? Number.NaN : probabilities[next++]![0]!,
  );
}

const ZTF_FILTERS: Record<number, string> = { 1: 'g', 2: 'r', 3: 'i' };

/** The points of a ZTF alert as format_data_as_snana + dropna make them: detections with an error. */
export function ztfSnnPoints(lc: ZtfLightCurve): SnnPoint[] {
  const points: SnnPoint[] = [];
  for (let i = 0; i < lc.jd.length; i++) {
    const filter = ZTF_FILTERS[lc.fid[i]!];
    const { flux, fluxErr } = mag2fluxcalSnana(lc.magpsf[i]!, lc.sigmapsf[i]!);
    if (filter === undefined || Number.isNaN(flux) || Number.isNaN(fluxErr) || Number.isNaN(lc.jd[i]!))
      continue;
    points.push({ mjd: lc.jd[i]!, filter, flux, fluxErr });
  }
  return points;
}

export interface SnnZtfContext {
  roid: number;
  cdsxmatch: string;
  jdstarthist: number | null;
}

/** fink-science apply_selection_cuts_ztf (SuperNNova): whether the alert is scored at all. */
export function snnAppliesZtf(lc: ZtfLightCurve, ctx: SnnZtfContext): boolean {
  const lastJd = lc.jd[lc.jd.length - 1]!;
  return (
    countValid(lc.magpsf) >= 2 &&
    lastJd - (ctx.jdstarthist ?? Number.NaN) <= 90 &&
    ctx.roid !== 3 &&
    EXTRAGALACTIC_HOST_TYPES.has(ctx.cdsxmatch)
  );
}

/** The network input of a ZTF alert for snn_snia_vs_nonia / snn_sn_vs_all; null where Fink does not score it. */
export function snnInputZtf(model: SnnModel, lc: ZtfLightCurve, ctx: SnnZtfContext): RnnSequence | null {
  if (!snnAppliesZtf(lc, ctx)) return null;
  return snnInput(model, ztfSnnPoints(lc));
}
