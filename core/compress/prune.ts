import type { Model } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { findWeightLayers, type WeightLayer } from './layers.js';

/**
 * Magnitude pruning of the weight layers, in float: zeros written into the model's own weight
 * tensors (a pruned model is still an ordinary model, and fine-tuning can start from it).
 *   - '2:4': of every 4 weights along K, the 2 of largest magnitude are kept — the pattern the
 *     SparseQMatMul kernel stores (quantize with sparsity '2:4' to get its speed). Dense layers
 *     only: that kernel is a matrix product and the quantizer keeps convolutions on dense int8
 *     QConv, so 2:4 zeros in a conv would cost accuracy and buy nothing;
 *   - { block }: whole blocks of `block` weights along K with the smallest L2 norm are zeroed
 *     until `sparsity` of the layer is gone, the pattern a block-skipping kernel can exploit;
 *   - a fraction: unstructured, the smallest |w| of each layer.
 * Layers are pruned one by one (each to the same sparsity), so no layer is wiped out because its
 * weights are small in absolute terms.
 */
export type Sparsity = '2:4' | { readonly sparsity: number; readonly block?: number };

export interface PruneReport {
  readonly layers: readonly { readonly node: string; readonly n: number; readonly k: number; readonly zeros: number }[];
  readonly sparsity: number;
}

/** Keep-mask over a row-major [N, K] matrix. */
export function sparsityMask(w: Float32Array, n: number, k: number, pattern: Sparsity): Uint8Array {
  const keep = new Uint8Array(n * k).fill(1);
  if (pattern === '2:4') {
    for (let r = 0; r < n; r++) {
      for (let g = 0; g < k; g += 4) {
        const idx = [0, 1, 2, 3].filter((j) => g + j < k).map((j) => r * k + g + j);
        // Stable order: among equal magnitudes the lower index is kept, as the packer does.
        idx.sort((a, b) => Math.abs(w[b]!) - Math.abs(w[a]!) || a - b);
        for (const i of idx.slice(2)) keep[i] = 0;
      }
    }
    return keep;
  }
  const { sparsity, block = 1 } = pattern;
  if (!(sparsity >= 0 && sparsity < 1)) throw new RangeError(`sparsity must be in [0, 1), got ${sparsity}`);
  const perRow = Math.ceil(k / block);
  const norms: { i: number; v: number }[] = [];
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < perRow; b++) {
      let s = 0;
      for (let j = b * block; j < Math.min(k, (b + 1) * block); j++) s += w[r * k + j]! ** 2;
      norms.push({ i: r * perRow + b, v: s });
    }
  }
  norms.sort((a, b) => a.v - b.v || a.i - b.i);
  for (const { i } of norms.slice(0, Math.round(sparsity * norms.length))) {
    const r = Math.floor(i / perRow);
    const b = i % perRow;
    for (let j = b * block; j < Math.min(k, (b + 1) * block); j++) keep[r * k + j] = 0;
  }
  return keep;
}

/** How many groups of 4 along K of a row-major [N, K] matrix hold more than 2 nonzeros (0: it is 2:4). */
export function groupsDenserThan2of4(w: Float32Array, n: number, k: number): number {
  let dense = 0;
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < k; g += 4) {
      let nonzero = 0;
      for (let j = g; j < Math.min(g + 4, k); j++) if (w[r * k + j] !== 0) nonzero++;
      if (nonzero > 2) dense++;
    }
  }
  return dense;
}

/** The layer's weights in the tensor's own layout with the mask (over [N, K]) applied. */
function maskedTensor(layer: WeightLayer, original: Tensor, keep: Uint8Array): Tensor {
  const data = Float32Array.from(original.data as Float32Array);
  const { n, k } = layer;
  const kn = layer.stored === 'kn';
  for (let r = 0; r < n; r++) for (let p = 0; p < k; p++) if (!keep[r * k + p]) data[kn ? p * n + r : r * k + p] = 0;
  return { ...original, data };
}

export function pruneModel(model: Model, pattern: Sparsity, exclude: readonly string[] = []): { model: Model; report: PruneReport } {
  const initializers = new Map(model.graph.initializers);
  const layers: PruneReport['layers'][number][] = [];
  let zeros = 0;
  let total = 0;
  for (const layer of findWeightLayers(model.graph)) {
    if (exclude.includes(layer.node.name) || (pattern === '2:4' && layer.kind === 'conv')) continue;
    const name = layer.node.inputs[1]!;
    const original = initializers.get(name);
    if (!original) continue;
    const keep = sparsityMask(layer.weights, layer.n, layer.k, pattern);
    const pruned = maskedTensor(layer, original, keep);
    initializers.set(name, pruned);
    const z = (pruned.data as Float32Array).reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
    layers.push({ node: layer.node.name, n: layer.n, k: layer.k, zeros: z });
    zeros += z;
    total += layer.n * layer.k;
  }
  return { model: { ...model, graph: { ...model.graph, initializers } }, report: { layers, sparsity: total ? zeros / total : 0 } };
}
