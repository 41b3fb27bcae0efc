import { attrFloat, attrInt, attrTensor, type Graph, type Node } from '../ir/graph.js';
import { sizeOf, type Tensor } from '../tensor.js';

/**
 * The layers compression can rewrite: MatMul and Gemm with a constant weight matrix, and 2-D Conv
 * with constant filters, each seen the way every compressed kernel reads it — a weight matrix
 * [N, K] with one row per output channel and K contiguous, an optional bias [N], and a factor
 * folded into the per-channel scales (Gemm's alpha).
 */
export interface WeightLayer {
  readonly kind: 'dense' | 'conv';
  /** The node, and for a MatMul whose bias is a following Add, that Add (folded away). */
  readonly node: Node;
  readonly biasAdd?: Node;
  /** The float activations the layer reads. */
  readonly input: string;
  readonly output: string;
  readonly n: number;
  readonly k: number;
  /** Row-major [N, K]. */
  readonly weights: Float32Array;
  /** How the model's own weight tensor (input 1) holds them: [K, N] or [N, K…]. */
  readonly stored: 'kn' | 'nk';
  readonly bias?: Float32Array;
  readonly alpha: number;
  /** Initializers only this layer reads, dropped when it is rewritten. */
  readonly ownInitializers: readonly string[];
}

/** The layer's weights with Gemm's alpha folded in, what every compressed format stores. */
export function scaledWeights(layer: WeightLayer): Float32Array {
  return layer.alpha === 1 ? layer.weights : layer.weights.map((v) => v * layer.alpha);
}

/** The value of an initializer or a Constant node, if `name` is one. */
export function constant(graph: Graph, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  const t = graph.initializers.get(name);
  if (t) return t;
  const node = graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name);
  return node ? attrTensor(node.attrs, 'value') : undefined;
}

/** Readers of each value, graph outputs counted as readers. */
function readers(graph: Graph): Map<string, number> {
  const count = new Map<string, number>();
  const bump = (v: string): void => void count.set(v, (count.get(v) ?? 0) + 1);
  for (const node of graph.nodes) node.inputs.forEach((v) => v && bump(v));
  for (const o of graph.outputs) bump(o.name);
  return count;
}

/** A vector of exactly N floats along the last axis ([N], [1, N], …), or a scalar broadcast to N. */
function biasVector(t: Tensor | undefined, n: number, scale: number): Float32Array | undefined {
  if (!t || t.dtype !== 'float32') return undefined;
  const size = sizeOf(t.dims);
  const lastIsN = t.dims.length > 0 && t.dims[t.dims.length - 1] === n && size === n;
  if (!lastIsN && size !== 1) return undefined;
  return Float32Array.from({ length: n }, (_, j) => scale * t.data[size === 1 ? 0 : j]!);
}

/** A row-major [K, N] matrix as [N, K]; integer values (quantized weights) come through exactly. */
export function transposeKN(b: { readonly data: ArrayLike<number> }, k: number, n: number): Float32Array {
  const w = new Float32Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) w[j * k + p] = b.data[p * n + j]!;
  return w;
}

function denseLayer(graph: Graph, node: Node, reads: Map<string, number>): WeightLayer | undefined {
  const b = constant(graph, node.inputs[1]);
  if (!b || b.dtype !== 'float32' || b.dims.length !== 2) return undefined;
  const own = [node.inputs[1]!];
  if (node.opType === 'MatMul') {
    const [k, n] = b.dims as [number, number];
    const output = node.outputs[0]!;
    // A bias Add that only this MatMul feeds folds into the epilogue.
    const add = reads.get(output) === 1 ? graph.nodes.find((m) => m.opType === 'Add' && m.inputs.includes(output)) : undefined;
    const other = add ? add.inputs.find((v) => v !== output) : undefined;
    const bias = add ? biasVector(constant(graph, other), n, 1) : undefined;
    return {
      kind: 'dense', node, biasAdd: bias ? add : undefined, input: node.inputs[0]!, output: bias ? add!.outputs[0]! : output,
      n, k, weights: transposeKN(b, k, n), stored: 'kn', bias, alpha: 1, ownInitializers: bias ? [...own, other!] : own,
    };
  }
  if (attrInt(node.attrs, 'transA', 0) !== 0) return undefined;
  const transB = attrInt(node.attrs, 'transB', 0) !== 0;
  const [k, n] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  const cName = node.inputs[2];
  const c = constant(graph, cName);
  const bias = c ? biasVector(c, n, attrFloat(node.attrs, 'beta', 1)) : undefined;
  if (cName && !bias) return undefined;
  return {
    kind: 'dense', node, input: node.inputs[0]!, output: node.outputs[0]!, n, k,
    weights: transB ? Float32Array.from(b.data as Float32Array) : transposeKN(b, k, n), stored: transB ? 'nk' : 'kn',
    bias, alpha: attrFloat(node.attrs, 'alpha', 1), ownInitializers: cName ? [...own, cName] : own,
  };
}

function convLayer(graph: Graph, node: Node): WeightLayer | undefined {
  const w = constant(graph, node.inputs[1]);
  if (!w || w.dtype !== 'float32' || w.dims.length !== 4) return undefined;
  const n = w.dims[0]!;
  const k = sizeOf(w.dims.slice(1));
  const bName = node.inputs[2];
  const bias = bName ? biasVector(constant(graph, bName), n, 1) : undefined;
  if (bName && !bias) return undefined;
  return {
    kind: 'conv', node, input: node.inputs[0]!, output: node.outputs[0]!, n, k,
    weights: Float32Array.from(w.data as Float32Array), stored: 'nk', bias, alpha: 1,
    ownInitializers: bName ? [node.inputs[1]!, bName] : [node.inputs[1]!],
  };
}

/** Every rewritable layer of the top-level graph, in graph order. */
export function findWeightLayers(graph: Graph): WeightLayer[] {
  const reads = readers(graph);
  const layers: WeightLayer[] = [];
  for (const node of graph.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
    const layer = node.opType === 'MatMul' || node.opType === 'Gemm' ? denseLayer(graph, node, reads) : node.opType === 'Conv' ? convLayer(graph, node) : undefined;
    if (layer && layer.ownInitializers.every((name) => reads.get(name) === 1 || !graph.initializers.has(name))) layers.push(layer);
  }
  return layers;
}

/** Conv attributes a compressed conv keeps (the ONNX geometry). */
export function convAttrs(node: Node): Record<string, Node['attrs'][string]> {
  const keep = ['kernel_shape', 'pads', 'strides', 'dilations', 'group', 'auto_pad'];
  return Object.fromEntries(Object.entries(node.attrs).filter(([k]) => keep.includes(k)));
}
