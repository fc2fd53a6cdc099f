// SuperNNova's network (lstm.ts) run by onnxruntime-node over a whole batch of light curves at once.
//
// The stacked bidirectional LSTM is written out as an ONNX graph in memory when the model loads (no file, nothing
// to install): per layer one ONNX `LSTM` node (direction bidirectional, the light curves' lengths as
// `sequence_lens`, so the reverse direction starts at each curve's own last step as PyTorch's packed sequences
// do), then Transpose + Reshape to the next layer's [steps, batch, 2 hidden] input. onnxruntime's LSTM is native
// (MLAS GEMMs over the batch, float32 as PyTorch's), ~15x cheaper per light curve than the same arithmetic in
// JavaScript; its outputs past a curve's length are zeros. The mean over the curve's steps, the linear layer and
// the softmax stay in lstm.ts (rnnHead), as cheap as they are small.
//
// ONNX's gates are ordered i, o, f, c where PyTorch's are i, f, g(=c), o; both biases of PyTorch are summed into
// ONNX's input bias, its recurrence bias left zero.
import protobuf from 'protobufjs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { rnnHead } from './lstm.ts';
import type { LstmDirection, VanillaRnnWeights } from './lstm.ts';

// The part of onnx.proto (onnx 1.x, proto2 field numbers) this graph uses.
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional int32 type = 20; optional int64 i = 3; optional bytes s = 4;
  repeated int64 ints = 8;
}
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; optional string name = 8; optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1; optional string producer_name = 2; optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;
const ModelProto = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;
/** PyTorch's gate blocks in ONNX's order: i, o, f, c <- i (0), o (3), f (1), g (2). */
const GATE_ORDER = [0, 3, 1, 2];

/** Light curves per run: sorted by length first, so a run pads little; bounds the run's memory. */
const CHUNK = 256;

function tensor(name: string, dims: number[], type: number, data: ArrayBufferView) {
  return {
    name,
    dims,
    data_type: type,
    raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** The rows of a [4H x width] PyTorch matrix in ONNX's gate order, as float32, appended to `out` at `at`. */
function gatesInOnnxOrder(
  source: Float64Array,
  H: number,
  width: number,
  out: Float32Array,
  at: number,
): void {
  GATE_ORDER.forEach((block, k) => {
    out.set(source.subarray(block * H * width, (block + 1) * H * width), at + k * H * width);
  });
}

function lstmInitializers(layer: number, H: number, forward: LstmDirection, reverse: LstmDirection) {
  const inSize = forward.inputSize;
  const w = new Float32Array(2 * 4 * H * inSize);
  const r = new Float32Array(2 * 4 * H * H);
  const b = new Float32Array(2 * 8 * H);
  [forward, reverse].forEach((dir, d) => {
    gatesInOnnxOrder(dir.wih, H, inSize, w, d * 4 * H * inSize);
    gatesInOnnxOrder(dir.whh, H, H, r, d * 4 * H * H);
    gatesInOnnxOrder(dir.bias, H, 1, b, d * 8 * H);
  });
  return [
    tensor(`W${layer}`, [2, 4 * H, inSize], FLOAT, w),
    tensor(`R${layer}`, [2, 4 * H, H], FLOAT, r),
    tensor(`B${layer}`, [2, 8 * H], FLOAT, b),
    tensor(`shape${layer}`, [3], INT64, BigInt64Array.from([0n, 0n, BigInt(2 * H)])),
  ];
}

function valueInfo(name: string, type: number, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** The ONNX model (serialised ModelProto) of the network's LSTM layers: X [steps, batch, in], lengths [batch]. */
export function rnnOnnxModel(net: VanillaRnnWeights): Uint8Array {
  const H = net.hiddenSize;
  const nodes = [];
  const initializer = [];
  let input = 'X';
  for (const [k, { forward, reverse }] of net.layers.entries()) {
    initializer.push(...lstmInitializers(k, H, forward, reverse));
    nodes.push(
      {
        name: `lstm${k}`,
        op_type: 'LSTM',
        input: [input, `W${k}`, `R${k}`, `B${k}`, 'lengths'],
        output: [`Y${k}`],
        attribute: [
          { name: 'direction', type: ATTRIBUTE_STRING, s: new TextEncoder().encode('bidirectional') },
          { name: 'hidden_size', type: ATTRIBUTE_INT, i: H },
        ],
      },
      // [steps, 2, batch, H] -> [steps, batch, 2, H] -> [steps, batch, 2H]: forward then reverse h_t.
      {
        name: `transpose${k}`,
        op_type: 'Transpose',
        input: [`Y${k}`],
        output: [`T${k}`],
        attribute: [{ name: 'perm', type: ATTRIBUTE_INTS, ints: [0, 2, 1, 3] }],
      },
      { name: `reshape${k}`, op_type: 'Reshape', input: [`T${k}`, `shape${k}`], output: [`Z${k}`] },
    );
    input = `Z${k}`;
  }
  const inSize = net.layers[0]!.forward.inputSize;
  const model = {
    ir_version: 8,
    producer_name: 'fink',
    opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'supernnova_lstm',
      node: nodes,
      initializer,
      input: [valueInfo('X', FLOAT, ['steps', 'batch', inSize]), valueInfo('lengths', INT32, ['batch'])],
      output: [valueInfo(input, FLOAT, ['steps', 'batch', 2 * H])],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** One light curve's network input: `steps` rows of the network's input width (>= 1 row). */
export interface RnnSequence {
  input: Float64Array;
  steps: number;
}

export interface BatchedRnn {
  /** Class probabilities per light curve, in input order. */
  predict(sequences: readonly RnnSequence[]): Promise<Float64Array[]>;
}

export async function createBatchedRnn(net: VanillaRnnWeights): Promise<BatchedRnn> {
  // One thread, as the anomaly forests: a service classifies one batch at a time.
  const session = await InferenceSession.create(rnnOnnxModel(net), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const outputName = session.outputNames[0]!;
  const inSize = net.layers[0]!.forward.inputSize;
  const width = 2 * net.hiddenSize;

  async function run(sequences: readonly RnnSequence[], order: number[], out: Float64Array[]): Promise<void> {
    const batch = order.length;
    const steps = Math.max(...order.map((i) => sequences[i]!.steps));
    const x = new Float32Array(steps * batch * inSize);
    const lengths = new Int32Array(batch);
    order.forEach((index, b) => {
      const { input, steps: n } = sequences[index]!;
      lengths[b] = n;
      for (let t = 0; t < n; t++) {
        x.set(input.subarray(t * inSize, (t + 1) * inSize), (t * batch + b) * inSize);
      }
    });
    const result = await session.run({
      X: new Tensor('float32', x, [steps, batch, inSize]),
      lengths: new Tensor('int32', lengths, [batch]),
    });
    const y = result[outputName]!.data as Float32Array;
    order.forEach((index, b) => {
      out[index] = rnnHead(net, y, lengths[b]!, (t) => (t * batch + b) * width);
    });
  }

  return {
    async predict(sequences) {
      for (const [i, s] of sequences.entries()) {
        if (s.steps < 1 || s.input.length !== s.steps * inSize) {
          throw new Error(
            `light curve ${i}: ${s.steps} steps and ${s.input.length} inputs of width ${inSize}`,
          );
        }
      }
      const out: Float64Array[] = new Array<Float64Array>(sequences.length);
      const byLength = sequences.map((_, i) => i).sort((a, b) => sequences[a]!.steps - sequences[b]!.steps);
      for (let start = 0; start < byLength.length; start += CHUNK) {
        await run(sequences, byLength.slice(start, start + CHUNK), out);
      }
      return out;
    },
  };
}
