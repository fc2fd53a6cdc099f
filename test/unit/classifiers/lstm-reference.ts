// A plain float64 evaluation of SuperNNova's stacked bidirectional LSTM (PyTorch's cell, gates i, f, g, o), the
// oracle the ONNX graph of src/pipeline/classifiers/fink/lstm-onnx.ts is checked against.
import { rnnHead } from '../../../src/pipeline/classifiers/fink/lstm.ts';
import type { LstmDirection, VanillaRnnWeights } from '../../../src/pipeline/classifiers/fink/lstm.ts';

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
  return rnnHead(net, current, steps, (t) => t * 2 * H);
}
