import type { Graph, Model } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { BLOCK_COLS, BLOCK_ROWS } from '../../kernels/blocksparse/format.js';
import { findWeightLayers, type WeightLayer } from './layers.js';
import { blockSparseEncoding, rewriteLayers } from './rewrite-layers.js';

/**
 * Magnitude pruning of the weight layers, in float: zeros written into the model's own weight
 * tensors (a pruned model is still an ordinary model, and fine-tuning can start from it).
 *   - '2:4': of every 4 weights along K, the 2 of largest magnitude are kept — the pattern the
 *     SparseQMatMul kernel stores (quantize with sparsity '2:4' to get its speed). Dense layers
 *     only: that kernel is a matrix product and the quantizer keeps convolutions on dense int8
 *     QConv, so 2:4 zeros in a conv would cost accuracy and buy nothing;
 *   - { block }: whole blocks with the smallest L2 norm are zeroed until `sparsity` of the
 *     layer's blocks are gone: `block: b` is 1 × b along K, `block: [rows, cols]` rows output
 *     channels × cols along K. [4, 16] is what BlockSparseMatMul stores, and `compress` with
 *     float weights then runs the dense layers on it, skipping the zero blocks;
 *   - a fraction: unstructured, the smallest |w| of each layer.
 * Layers are pruned one by one (each to the same sparsity), so no layer is wiped out because its
 * weights are small in absolute terms.
 */
export type Sparsity = '2:4' | { readonly sparsity: number; readonly block?: number | readonly [rows: number, cols: number] };

/** A block pattern's shape as [rows, cols] (1-D blocks lie along K). */
export const blockShape = (block: number | readonly [number, number] = 1): readonly [number, number] =>
  typeof block === 'number' ? [1, block] : block;

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
  const { sparsity } = pattern;
  const [br, bc] = blockShape(pattern.block);
  if (!(sparsity >= 0 && sparsity < 1)) throw new RangeError(`sparsity must be in [0, 1), got ${sparsity}`);
  if (![br, bc].every((d) => Number.isInteger(d) && d >= 1)) throw new RangeError(`block dims must be positive integers, got [${br}, ${bc}]`);
  const perRow = Math.ceil(k / bc);
  // Visits the [N, K] indices of block i (tail blocks are cut at N and K).
  const eachIn = (i: number, f: (index: number) => void): void => {
    const r0 = Math.floor(i / perRow) * br;
    const c0 = (i % perRow) * bc;
    for (let r = r0; r < Math.min(n, r0 + br); r++) for (let c = c0; c < Math.min(k, c0 + bc); c++) f(r * k + c);
  };
  const norms: { i: number; v: number }[] = [];
  for (let i = 0; i < Math.ceil(n / br) * perRow; i++) {
    let s = 0;
    eachIn(i, (j) => { s += w[j]! ** 2; });
    norms.push({ i, v: s });
  }
  norms.sort((a, b) => a.v - b.v || a.i - b.i);
  for (const { i } of norms.slice(0, Math.round(sparsity * norms.length))) eachIn(i, (j) => { keep[j] = 0; });
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

/**
 * Whether a pruning pattern zeroes whole BlockSparseMatMul blocks: a block pattern whose blocks
 * are unions of 4 × 16 ones. Other patterns leave zeros a 4 × 16 block would mostly still hold.
 */
export function tilesBlockSparse(pattern: Sparsity): boolean {
  if (pattern === '2:4' || pattern.block === undefined) return false;
  const [r, c] = blockShape(pattern.block);
  return r % BLOCK_ROWS === 0 && c % BLOCK_COLS === 0;
}

/**
 * Puts BlockSparseMatMul in place of the dense layers (MatMul, Gemm) of a block-pruned float
 * model; convolutions stay on the dense conv kernels (the op is a matrix product). Returns the
 * rewritten nodes' names with it, for the compression report.
 */
export function blockSparseLayers(model: Model, exclude: readonly string[] = []): { readonly graph: Graph; readonly layers: readonly WeightLayer[] } {
  const layers = findWeightLayers(model.graph).filter((l) => l.kind === 'dense' && !exclude.includes(l.node.name));
  return { graph: rewriteLayers(model.graph, layers.map((l) => [l, blockSparseEncoding(l)] as const)), layers };
}
