import type { AttrValue, Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { BLOCK_COLS, BLOCK_ROWS, packBlockSparse } from '../../kernels/blocksparse/format.js';
import type { QuantizedWeights } from '../../kernels/quant/pack.js';
import { TESSERA_DOMAIN } from '../ir/domains.js';
import { convAttrs, scaledWeights, type WeightLayer } from './layers.js';

/**
 * Puts com.tessera nodes in place of weight layers: shared by the quantize tool, which encodes
 * float weights, and the ONNX importer, which carries over weights a model already holds quantized.
 */

export interface Encoded {
  readonly opType: string;
  readonly format: string;
  /**
   * Inputs after the activations, in the op's order; undefined marks an omitted optional one. The
   * bundle names their layouts from the op that reads them (core/bundle/layouts.ts).
   */
  readonly tensors: readonly (readonly [suffix: string, tensor: Tensor] | undefined)[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export const f32 = (data: Float32Array, dims: readonly number[]): Tensor => ({ dtype: 'float32', dims, data });
export const i32 = (data: Int32Array, dims: readonly number[]): Tensor => ({ dtype: 'int32', dims, data });

export function biasEntry(layer: WeightLayer): readonly [string, Tensor] | undefined {
  return layer.bias ? ['bias', f32(layer.bias, [layer.n])] : undefined;
}

/** QMatMul, or QConv for a conv layer, over int8 weights already packed per output channel. */
export function int8Encoding(layer: WeightLayer, q: QuantizedWeights, acts: Readonly<Record<string, AttrValue>>): Encoded {
  const { n, k } = layer;
  const isConv = layer.kind === 'conv';
  return {
    opType: isConv ? 'QConv' : 'QMatMul',
    format: 'int8',
    tensors: [['w', i32(q.packed, [n, Math.ceil(k / 4)])], ['wscale', f32(q.scales, [n])], biasEntry(layer)],
    attrs: { ...(isConv ? convAttrs(layer.node) : {}), k, ...acts },
  };
}

/** BlockSparseMatMul over a dense layer's float weights (Gemm's alpha folded in): every 4 × 16 block with a nonzero is stored. */
export function blockSparseEncoding(layer: WeightLayer): Encoded {
  const { n, k } = layer;
  const w = scaledWeights(layer);
  const { values, blockCols, rowPtr } = packBlockSparse(w, n, k);
  return {
    opType: 'BlockSparseMatMul',
    format: 'bsr4x16',
    tensors: [
      ['values', f32(values, [blockCols.length, BLOCK_ROWS, BLOCK_COLS])],
      ['blockCols', i32(blockCols, [blockCols.length])],
      ['rowPtr', i32(rowPtr, [rowPtr.length])],
      biasEntry(layer),
    ],
    attrs: { k, n },
  };
}

/** Values no node, no graph output and no sub-graph reads any more. */
function dropUnread(graph: Graph, nodes: Node[], initializers: Map<string, Tensor>): Node[] {
  const read = new Set<string>(graph.outputs.map((o) => o.name));
  const mark = (g: Graph): void => {
    for (const node of g.nodes) {
      node.inputs.forEach((v) => v && read.add(v));
      for (const a of Object.values(node.attrs)) if (typeof a === 'object' && a !== null && 'nodes' in a) mark(a as Graph);
    }
  };
  mark({ ...graph, nodes });
  for (const name of [...initializers.keys()]) if (!read.has(name)) initializers.delete(name);
  return nodes.filter((node) => node.opType !== 'Constant' || read.has(node.outputs[0]!));
}

/**
 * Replaces each layer's node (and its folded bias Add) by the encoded op reading `layer.input`,
 * stores the encoded tensors as `<node>.<format>.<suffix>` and drops what nothing reads any more.
 */
export function rewriteLayers(graph: Graph, rewrites: readonly (readonly [WeightLayer, Encoded])[]): Graph {
  const initializers = new Map(graph.initializers);
  const replaced = new Map<Node, Node | undefined>();
  rewrites.forEach(([layer, e], i) => {
    const base = `${layer.node.name || `layer${i}`}.${e.format}`;
    const inputs = [layer.input, ...e.tensors.map((entry) => {
      if (!entry) return '';
      const [suffix, t] = entry;
      const name = `${base}.${suffix}`;
      initializers.set(name, t);
      return name;
    })];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    replaced.set(layer.node, { name: layer.node.name, opType: e.opType, domain: TESSERA_DOMAIN, inputs, outputs: [layer.output], attrs: e.attrs });
    if (layer.biasAdd) replaced.set(layer.biasAdd, undefined);
  });
  const rewritten = graph.nodes.flatMap((node) => (replaced.has(node) ? (replaced.get(node) ? [replaced.get(node)!] : []) : [node]));
  const nodes = dropUnread(graph, rewritten, initializers);
  return { ...graph, nodes, initializers };
}
