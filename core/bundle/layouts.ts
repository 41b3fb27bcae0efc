import { isGraphAttr, type Graph } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';

/**
 * The layout names a bundle records for packed weights, from the op that reads them
 * (docs/compressed-formats.md). Informational, for `tessera inspect` and tools; the kernels take
 * their meaning from the op and its attributes, never from this string. The one table: the
 * compression tools' bundles and `tessera pack` of a graph holding these ops name them alike.
 */
type Layout = string | ((t: Tensor | undefined) => string);

export const DENSE = 'dense';

// Q4's scales are f32 [N, G] or IEEE halves two to an int32.
const q4Scales: Layout = (t) => (t?.dtype === 'int32' ? 'fp16-pairs' : DENSE);
const Q4: Readonly<Record<number, Layout>> = { 1: 'int4-block32', 2: q4Scales, 3: 'int4-zero-points' };

const PACKED_INPUTS: Readonly<Record<string, Readonly<Record<number, Layout>>>> = {
  QMatMul: { 1: 'int8x4-rows' },
  QConv: { 1: 'int8x4-rows' },
  Q4MatMul: Q4,
  Q4Conv: Q4,
  SparseQMatMul: { 1: '2:4-int8-values', 2: '2:4-indices' },
  BlockSparseMatMul: { 1: 'bsr4x16-f32', 2: 'bsr-block-cols', 3: 'bsr-row-ptr' },
};

/**
 * Layouts implied by `com.tessera` consumers, by value name, over the graph and its sub-graphs
 * (whose inputs may be the outer graphs' initializers).
 */
export function impliedLayouts(graph: Graph, found = new Map<string, string>(), outer: ReadonlyMap<string, Tensor> = new Map()): Map<string, string> {
  const tensors = new Map([...outer, ...graph.initializers]);
  for (const node of graph.nodes) {
    const packed = node.domain === 'com.tessera' ? PACKED_INPUTS[node.opType] : undefined;
    if (packed) {
      for (const [index, layout] of Object.entries(packed)) {
        const input = node.inputs[Number(index)];
        if (input) found.set(input, typeof layout === 'string' ? layout : layout(tensors.get(input)));
      }
    }
    for (const a of Object.values(node.attrs)) {
      if (isGraphAttr(a)) impliedLayouts(a, found, tensors);
    }
  }
  return found;
}
