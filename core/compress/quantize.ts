import type { AttrValue, Graph, Model, Node } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { packSparse24Int8 } from '../../kernels/sparse/sparse24.js';
import { quantizeInt4Blocks } from '../../kernels/int4/pack.js';
import { quantizeWeightsPerChannel } from '../../kernels/quant/pack.js';
import { TESSERA_DOMAIN } from '../../kernels/registry.js';
import { convAttrs, findWeightLayers, type WeightLayer } from './layers.js';

/**
 * Rewrites a float model's weight layers onto Tessera's compressed kernels (the formats in
 * docs/compressed-formats.md). Weights are quantized here, once, into the packed layout the
 * kernels read; activations are quantized inside the kernels with a calibrated (static) scale or
 * per row (dynamic). Convolutions always go to int8 `QConv`: the int4 and 2:4 kernels are
 * matrix products, and in the models in scope the dense layers hold most of the weights.
 */
export type ActivationQuantization =
  /** Scales from calibration: each layer input's |x| range (see calibrate.ts). */
  | { readonly kind: 'static'; readonly ranges: ReadonlyMap<string, number> }
  | { readonly kind: 'dynamic' }
  /** int4 only: weights dequantized in the kernel, activations stay float. */
  | { readonly kind: 'float' };

export interface QuantizeOptions {
  readonly weights: 'int8' | 'int4';
  /** 2:4 structured sparsity on the dense layers (int8 only): magnitude-pruned here. */
  readonly sparsity?: '2:4';
  readonly activations: ActivationQuantization;
  /** Node names left in float. */
  readonly exclude?: readonly string[];
}

export interface LayerRecipe {
  readonly node: string;
  readonly opType: string;
  readonly format: string;
  readonly n: number;
  readonly k: number;
  readonly actScale?: number;
}

export interface QuantizeRecipe {
  readonly weights: 'int8' | 'int4';
  readonly sparsity?: '2:4';
  readonly activations: 'static' | 'dynamic' | 'float';
  readonly layers: readonly LayerRecipe[];
  readonly excluded: readonly string[];
  /** Tensor name → packed layout, for the bundle's tensor table. */
  readonly layouts: Readonly<Record<string, string>>;
}

interface Encoded {
  readonly opType: string;
  readonly format: string;
  /** Inputs after the activations, in the op's order; undefined marks an omitted optional one. */
  readonly tensors: readonly (readonly [suffix: string, tensor: Tensor, layout: string] | undefined)[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

const f32 = (data: Float32Array, dims: readonly number[]): Tensor => ({ dtype: 'float32', dims, data });
const i32 = (data: Int32Array, dims: readonly number[]): Tensor => ({ dtype: 'int32', dims, data });

function biasEntry(layer: WeightLayer): readonly [string, Tensor, string] | undefined {
  return layer.bias ? ['bias', f32(layer.bias, [layer.n]), 'dense'] : undefined;
}

function actAttrs(layer: WeightLayer, acts: ActivationQuantization): Record<string, AttrValue> {
  if (acts.kind !== 'static') return {};
  const range = acts.ranges.get(layer.input);
  if (range === undefined) throw new RangeError(`no calibrated range for "${layer.input}", the input of node "${layer.node.name}"`);
  // A value that is always 0 still needs a positive scale; any will do, every q is 0.
  return { act_scale: range > 0 ? range / 127 : 1 };
}

function encode(layer: WeightLayer, options: QuantizeOptions): Encoded {
  const { n, k } = layer;
  const acts = actAttrs(layer, options.activations);
  // Gemm's alpha goes into the weights before quantizing, so every format's scales absorb it.
  const w = layer.alpha === 1 ? layer.weights : layer.weights.map((v) => v * layer.alpha);
  if (layer.kind === 'conv' || (options.weights === 'int8' && !options.sparsity)) {
    const q = quantizeWeightsPerChannel(w, n, k);
    const isConv = layer.kind === 'conv';
    return {
      opType: isConv ? 'QConv' : 'QMatMul',
      format: 'int8',
      tensors: [['w', i32(q.packed, [n, Math.ceil(k / 4)]), 'int8x4-rows'], ['wscale', f32(q.scales, [n]), 'dense'], biasEntry(layer)],
      attrs: { ...(isConv ? convAttrs(layer.node) : {}), k, ...acts },
    };
  }
  if (options.sparsity === '2:4') {
    const q = packSparse24Int8(w, n, k);
    return {
      opType: 'SparseQMatMul',
      format: '2:4+int8',
      tensors: [
        ['values', i32(q.values, [n, Math.ceil(k / 8)]), '2:4-int8-values'],
        ['indices', i32(q.indices, [n, Math.ceil(k / 32)]), '2:4-indices'],
        ['wscale', f32(q.scales, [n]), 'dense'],
        biasEntry(layer),
      ],
      attrs: { k, ...acts },
    };
  }
  // fp16 scales: 4.5 bits per weight instead of 5 (docs/compressed-formats.md, Q4MatMul).
  const q = quantizeInt4Blocks(f32(w, [n, k]), { zeroPoint: false, scaleDtype: 'float16' });
  return {
    opType: 'Q4MatMul',
    format: 'int4',
    tensors: [['w', q.packed, 'int4-block32'], ['scales', q.scales, 'fp16-pairs'], undefined, biasEntry(layer)],
    attrs: { k, ...acts, ...(options.activations.kind === 'dynamic' ? { act_int8: 1 } : {}) },
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

export function quantizeModel(model: Model, options: QuantizeOptions): { model: Model; recipe: QuantizeRecipe } {
  if (options.sparsity && options.weights !== 'int8') throw new RangeError('2:4 sparsity combines with int8 weights only');
  if (options.activations.kind === 'float' && options.weights !== 'int4') throw new RangeError('float activations need int4 (weight-only) quantization');
  const { graph } = model;
  const exclude = new Set(options.exclude ?? []);
  const unknown = [...exclude].filter((name) => !graph.nodes.some((n) => n.name === name));
  if (unknown.length) throw new RangeError(`--exclude names no node: ${unknown.join(', ')}`);
  const layers = findWeightLayers(graph).filter((l) => !exclude.has(l.node.name));
  const initializers = new Map(graph.initializers);
  const layouts: Record<string, string> = {};
  const replaced = new Map<Node, Node | undefined>();
  const recipes: LayerRecipe[] = [];
  layers.forEach((layer, i) => {
    const e = encode(layer, { ...options, activations: layer.kind === 'conv' && options.activations.kind === 'float' ? { kind: 'dynamic' } : options.activations });
    const base = `${layer.node.name || `layer${i}`}.${e.format}`;
    const inputs = [layer.input, ...e.tensors.map((entry) => {
      if (!entry) return '';
      const [suffix, t, layout] = entry;
      const name = `${base}.${suffix}`;
      initializers.set(name, t);
      layouts[name] = layout;
      return name;
    })];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    replaced.set(layer.node, { name: layer.node.name, opType: e.opType, domain: TESSERA_DOMAIN, inputs, outputs: [layer.output], attrs: e.attrs });
    if (layer.biasAdd) replaced.set(layer.biasAdd, undefined);
    recipes.push({ node: layer.node.name, opType: e.opType, format: e.format, n: layer.n, k: layer.k, actScale: e.attrs.act_scale as number | undefined });
  });
  const rewritten = graph.nodes.flatMap((node) => (replaced.has(node) ? (replaced.get(node) ? [replaced.get(node)!] : []) : [node]));
  const nodes = dropUnread(graph, rewritten, initializers);
  return {
    model: { ...model, graph: { ...graph, nodes, initializers } },
    recipe: {
      weights: options.weights, sparsity: options.sparsity, activations: options.activations.kind,
      layers: recipes, excluded: [...exclude], layouts,
    },
  };
}
