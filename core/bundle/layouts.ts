import { isGraphAttr, type Graph } from '../ir/graph.js';

/**
 * The layout names a bundle records for packed weights, from the op that reads them
 * (docs/compressed-formats.md). Informational, for `tessera inspect` and tools; the kernels take
 * their meaning from the op and its attributes, never from this string.
 */
const PACKED_INPUTS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  QMatMul: { 1: 'int8x4-rows' },
  QConv: { 1: 'int8x4-rows' },
  Q4MatMul: { 1: 'int4-block32' },
  Q4Conv: { 1: 'int4-block32' },
  SparseQMatMul: { 1: '2:4-int8', 2: '2:4-indices' },
  BlockSparseMatMul: { 1: 'bsr4x16-f32', 2: 'bsr-block-cols', 3: 'bsr-row-ptr' },
};

export const DENSE = 'dense';

/** Layouts implied by `com.tessera` consumers, by value name, over the graph and its sub-graphs. */
export function impliedLayouts(graph: Graph, found = new Map<string, string>()): Map<string, string> {
  for (const node of graph.nodes) {
    const packed = node.domain === 'com.tessera' ? PACKED_INPUTS[node.opType] : undefined;
    if (packed) {
      for (const [index, layout] of Object.entries(packed)) {
        const input = node.inputs[Number(index)];
        if (input) found.set(input, layout);
      }
    }
    for (const a of Object.values(node.attrs)) {
      if (isGraphAttr(a)) impliedLayouts(a, found);
    }
  }
  return found;
}
