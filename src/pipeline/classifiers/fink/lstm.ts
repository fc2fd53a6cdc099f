// SuperNNova's "vanilla" network, evaluated from its state dict: a stacked bidirectional LSTM, the mean of the
// last layer's outputs over the sequence, a linear layer and a softmax (supernnova/training/vanilla_rnn.py with
// rnn_output_option 'mean', as Fink's SuperNNova models are trained; dropout is off at inference).
//
// PyTorch's LSTM cell, gates stacked i, f, g, o in weight_ih_l{k}[_reverse] (4H x input) and weight_hh (4H x H):
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(...)   g = tanh(...)   o = σ(...)
//   c' = f c + i g                         h' = o tanh(c')
// The reverse direction runs over the same (unpadded) sequence from its last step to its first, as PyTorch does
// for packed sequences, and a layer's output at step t is [forward h_t, reverse h_t].
// Arithmetic is in float64 where PyTorch uses float32: scores agree to ~1e-6.

export interface LstmDirection {
  wih: Float64Array;
  whh: Float64Array;
  /** b_ih + b_hh, added once. */
  bias: Float64Array;
  inputSize: number;
}

export interface VanillaRnnWeights {
  hiddenSize: number;
  layers: { forward: LstmDirection; reverse: LstmDirection }[];
  /** Linear layer: outputs x (2 hidden) row-major, and its bias. */
  outWeight: Float64Array;
  outBias: Float64Array;
  nClasses: number;
}

export interface TorchTensorJson {
  shape: number[];
  data: number[];
}

/** Builds the network from SuperNNova's state dict (as converted by `fink models install`). */
export function vanillaRnnFromStateDict(
  weights: Readonly<Record<string, TorchTensorJson>>,
  numLayers: number,
  hiddenSize: number,
): VanillaRnnWeights {
  const tensor = (name: string): TorchTensorJson => {
    const t = weights[name];
    if (t === undefined) throw new Error(`SuperNNova state dict lacks ${name}`);
    return t;
  };
  const direction = (suffix: string): LstmDirection => {
    const wih = tensor(`rnn_layer.weight_ih_${suffix}`);
    const whh = tensor(`rnn_layer.weight_hh_${suffix}`);
    const bih = tensor(`rnn_layer.bias_ih_${suffix}`).data;
    const bhh = tensor(`rnn_layer.bias_hh_${suffix}`).data;
    if (wih.shape[0] !== 4 * hiddenSize || whh.shape[1] !== hiddenSize) {
      throw new Error(
        `SuperNNova ${suffix}: weights of shape ${wih.shape.join('x')} / ${whh.shape.join('x')} for hidden size ${hiddenSize}`,
      );
    }
    return {
      wih: Float64Array.from(wih.data),
      whh: Float64Array.from(whh.data),
      bias: Float64Array.from(bih, (b, i) => b + bhh[i]!),
      inputSize: wih.shape[1]!,
    };
  };
  const layers = [];
  for (let k = 0; k < numLayers; k++) {
    layers.push({ forward: direction(`l${k}`), reverse: direction(`l${k}_reverse`) });
  }
  const out = tensor('output_layer.weight');
  return {
    hiddenSize,
    layers,
    outWeight: Float64Array.from(out.data),
    outBias: Float64Array.from(tensor('output_layer.bias').data),
    nClasses: out.shape[0]!,
  };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** One direction over `steps` inputs of width dir.inputSize; writes h_t into out[t * stride + offset ...]. */
function runDirection(
  dir: LstmDirection,
  hiddenSize: number,
  input: Float64Array,
  steps: number,
  reverse: boolean,
  out: Float64Array,
  stride: number,
  offset: number,
): void {
  const H = hiddenSize;
  const inSize = dir.inputSize;
  // Locals: property loads inside the loops are not hoisted by the engine (the arrays could alias).
  const { wih, whh, bias } = dir;
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const gates = new Float64Array(4 * H);
  for (let s = 0; s < steps; s++) {
    const t = reverse ? steps - 1 - s : s;
    const xBase = t * inSize;
    for (let r = 0; r < 4 * H; r++) {
      let acc = bias[r]!;
      const wi = r * inSize;
      for (let j = 0; j < inSize; j++) acc += wih[wi + j]! * input[xBase + j]!;
      // h is 0 before the first step.
      if (s > 0) {
        const wh = r * H;
        for (let j = 0; j < H; j++) acc += whh[wh + j]! * h[j]!;
      }
      gates[r] = acc;
    }
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gates[j]!);
      const f = sigmoid(gates[H + j]!);
      const g = Math.tanh(gates[2 * H + j]!);
      const o = sigmoid(gates[3 * H + j]!);
      c[j] = f * c[j]! + i * g;
      h[j] = o * Math.tanh(c[j]!);
      out[t * stride + offset + j] = h[j]!;
    }
  }
}

/** Class probabilities (softmax) for one sequence: `input` is steps x inputSize, row-major. */
export function vanillaRnnPredict(net: VanillaRnnWeights, input: Float64Array, steps: number): Float64Array {
  const H = net.hiddenSize;
  let current = input;
  for (const layer of net.layers) {
    const next = new Float64Array(steps * 2 * H);
    runDirection(layer.forward, H, current, steps, false, next, 2 * H, 0);
    runDirection(layer.reverse, H, current, steps, true, next, 2 * H, H);
    current = next;
  }
  const width = 2 * H;
  const mean = new Float64Array(width);
  for (let t = 0; t < steps; t++) for (let j = 0; j < width; j++) mean[j]! += current[t * width + j]!;
  for (let j = 0; j < width; j++) mean[j]! /= steps;
  const logits = new Float64Array(net.nClasses);
  let max = -Infinity;
  for (let k = 0; k < net.nClasses; k++) {
    let acc = net.outBias[k]!;
    for (let j = 0; j < width; j++) acc += net.outWeight[k * width + j]! * mean[j]!;
    logits[k] = acc;
    if (acc > max) max = acc;
  }
  let sum = 0;
  for (let k = 0; k < net.nClasses; k++) {
    logits[k] = Math.exp(logits[k]! - max);
    sum += logits[k]!;
  }
  for (let k = 0; k < net.nClasses; k++) logits[k]! /= sum;
  return logits;
}
