// A scikit-learn random forest, evaluated from the flat arrays `fink models install` writes
// (scripts/models/convert-models.py write_forest): predict_proba exactly as scikit-learn computes it.
//
// - Inputs are rounded to float32 first (scikit-learn's trees take float32 X), then compared with the float64
//   thresholds: go left when x <= threshold.
// - Each tree's leaf holds its class fractions (the leaf's weighted counts divided by their sum, done at
//   conversion); the forest's probability is their mean over the trees.
// Why not ONNX: skl2onnx would need a scikit-learn that unpickles these 0.22 / 1.0.2 forests (< 1.3), and ONNX
// tree ensembles store thresholds as float32, which can flip a comparison; thirty lines here are exact.

export interface ForestHeader {
  format: 'fink-forest-1';
  nTrees: number;
  nFeatures: number;
  nClasses: number;
  classes: (string | boolean)[];
  nodeCounts: number[];
}

export interface RandomForest {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly classes: readonly (string | boolean)[];
  /** Class probabilities of one sample (length nFeatures). */
  predictProba(features: ArrayLike<number>): Float64Array;
}

export function loadForest(header: ForestHeader, bin: Buffer): RandomForest {
  if (header.format !== 'fink-forest-1') throw new Error(`unknown forest format ${String(header.format)}`);
  const total = header.nodeCounts.reduce((a, b) => a + b, 0);
  const expected = total * (4 * 3 + 8 + 8 * header.nClasses);
  if (bin.byteLength !== expected) {
    throw new Error(`forest data has ${bin.byteLength} bytes, expected ${expected} for ${total} nodes`);
  }
  // Copy into aligned typed arrays (a Buffer's offset need not be aligned for Float64Array views).
  const data = new Uint8Array(bin);
  let offset = 0;
  const take = (bytes: number): ArrayBuffer => {
    const slice = data.slice(offset, offset + bytes).buffer;
    offset += bytes;
    return slice;
  };
  const left = new Int32Array(take(total * 4));
  const right = new Int32Array(take(total * 4));
  const feature = new Int32Array(take(total * 4));
  const threshold = new Float64Array(take(total * 8));
  const proba = new Float64Array(take(total * 8 * header.nClasses));
  const roots: number[] = [];
  let start = 0;
  for (const count of header.nodeCounts) {
    roots.push(start);
    start += count;
  }
  const { nClasses, nFeatures } = header;
  return {
    nFeatures,
    nClasses,
    classes: header.classes,
    predictProba(features: ArrayLike<number>): Float64Array {
      if (features.length !== nFeatures) {
        throw new Error(`forest takes ${nFeatures} features, got ${features.length}`);
      }
      const x = Float64Array.from(features, (v) => Math.fround(v));
      const out = new Float64Array(nClasses);
      for (const root of roots) {
        let node = 0;
        // Children are tree-local indices; -1 marks a leaf.
        while (left[root + node]! !== -1) {
          node =
            x[feature[root + node]!]! <= threshold[root + node]! ? left[root + node]! : right[root + node]!;
        }
        const base = (root + node) * nClasses;
        for (let k = 0; k < nClasses; k++) out[k]! += proba[base + k]!;
      }
      for (let k = 0; k < nClasses; k++) out[k]! /= roots.length;
      return out;
    },
  };
}
