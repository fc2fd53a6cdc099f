// SuperNNova's "vanilla" network, evaluated from its state dict: a stacked bidirectional LSTM, the mean of the
// last layer's outputs over the sequence, a linear layer and a softmax (supernnova/training/vanilla_rnn.py with
// rnn_output_option 'mean', as Fink's SuperNNova models are trained; dropout is off at inference).
//
// PyTorch's LSTM cell, gates stacked i, f, g, o in weight_ih_l{k}[_reverse] (4H x input) and weight_hh (4H x H):
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(...)   g = tanh(...)   o = σ(...)
//   c' = f c + i g                         h' = o tanh(c')
// The reverse direction runs over the same (unpadded) sequence from its last step to its first, as PyTorch does
// for packed sequences, and a layer's output at step t is [forward h_t, reverse h_t].
// The recurrence runs in onnxruntime (lstm-onnx.ts, float32 as PyTorch's); the head below runs here.

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

/**
 * The network's head on its last layer's outputs: their mean over the sequence's `steps`, the linear layer and a
 * softmax. `rowAt(t)` is where step t's [forward h, reverse h] starts in `outputs`.
 */
export function rnnHead(
  net: VanillaRnnWeights,
  outputs: ArrayLike<number>,
  steps: number,
  rowAt: (t: number) => number,
): Float64Array {
  const width = 2 * net.hiddenSize;
  const mean = new Float64Array(width);
  for (let t = 0; t < steps; t++) {
    const row = rowAt(t);
    for (let j = 0; j < width; j++) mean[j]! += outputs[row + j]!;
  }
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
