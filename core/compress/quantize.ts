import { attrInt, type AttrValue, type Model } from '../ir/graph.js';
import { packSparse24Int8 } from '../../kernels/sparse/sparse24.js';
import { quantizeInt4Blocks } from '../../kernels/int4/pack.js';
import { quantizeWeightsPerChannel } from '../../kernels/quant/pack.js';
import { convAttrs, findWeightLayers, scaledWeights, type WeightLayer } from './layers.js';
import { biasEntry, f32, i32, int8Encoding, rewriteLayers, type Encoded } from './rewrite-layers.js';

/**
 * Rewrites a float model's weight layers onto Tessera's compressed kernels (the formats in
 * docs/compressed-formats.md). Weights are quantized here, once, into the packed layout the
 * kernels read; activations are quantized inside the kernels with a calibrated (static) scale or
 * per row (dynamic). With int4, convolutions go to `Q4Conv` (Q4MatMul's format over the filters
 * flattened to [Cout, Cin·kh·kw]) except grouped ones and those with fewer than 16 taps per filter
 * (int4Conv below): those, and every conv under int8 or 2:4, go to int8 `QConv` (2:4 is a
 * matrix-product kernel only).
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
}

function actAttrs(layer: WeightLayer, acts: ActivationQuantization): Record<string, AttrValue> {
  if (acts.kind !== 'static') return {};
  const range = acts.ranges.get(layer.input);
  if (range === undefined) throw new RangeError(`no calibrated range for "${layer.input}", the input of node "${layer.node.name}"`);
  // A value that is always 0 still needs a positive scale; any will do, every q is 0.
  return { act_scale: range > 0 ? range / 127 : 1 };
}

/**
 * Under --int4, a conv goes to Q4Conv unless Q4Conv cannot run it (grouped) or its filters have
 * fewer than 16 taps: each filter then still takes a whole 32-tap group, larger than int8 (a 3×3
 * first layer on one channel: 20 bytes per filter against 16) and mostly padding to multiply.
 */
const MIN_INT4_CONV_TAPS = 16;
const int4Conv = (layer: WeightLayer): boolean =>
  layer.kind === 'conv' && layer.k >= MIN_INT4_CONV_TAPS && attrInt(layer.node.attrs, 'group', 1) === 1;

function encode(layer: WeightLayer, options: QuantizeOptions): Encoded {
  const { n, k } = layer;
  const acts = actAttrs(layer, options.activations);
  // Gemm's alpha goes into the weights before quantizing, so every format's scales absorb it.
  const w = scaledWeights(layer);
  const int4 = options.weights === 'int4' && (layer.kind === 'dense' || int4Conv(layer));
  if (!int4 && (layer.kind === 'conv' || !options.sparsity)) {
    return int8Encoding(layer, quantizeWeightsPerChannel(w, n, k), acts);
  }
  if (options.sparsity === '2:4') {
    const q = packSparse24Int8(w, n, k);
    return {
      opType: 'SparseQMatMul',
      format: '2:4+int8',
      tensors: [
        ['values', i32(q.values, [n, Math.ceil(k / 8)])],
        ['indices', i32(q.indices, [n, Math.ceil(k / 32)])],
        ['wscale', f32(q.scales, [n])],
        biasEntry(layer),
      ],
      attrs: { k, ...acts },
    };
  }
  // fp16 scales: 4.5 bits per weight instead of 5 (docs/compressed-formats.md, Q4MatMul).
  const q = quantizeInt4Blocks(f32(w, [n, k]), { zeroPoint: false, scaleDtype: 'float16' });
  const isConv = layer.kind === 'conv';
  return {
    opType: isConv ? 'Q4Conv' : 'Q4MatMul',
    format: 'int4',
    tensors: [['w', q.packed], ['scales', q.scales], undefined, biasEntry(layer)],
    attrs: { ...(isConv ? convAttrs(layer.node) : {}), k, ...acts, ...(options.activations.kind === 'dynamic' ? { act_int8: 1 } : {}) },
  };
}

export function quantizeModel(model: Model, options: QuantizeOptions): { model: Model; recipe: QuantizeRecipe } {
  if (options.sparsity && options.weights !== 'int8') throw new RangeError('2:4 sparsity combines with int8 weights only');
  if (options.activations.kind === 'float' && options.weights !== 'int4') throw new RangeError('float activations need int4 (weight-only) quantization');
  const { graph } = model;
  const exclude = new Set(options.exclude ?? []);
  const unknown = [...exclude].filter((name) => !graph.nodes.some((n) => n.name === name));
  if (unknown.length) throw new RangeError(`--exclude names no node: ${unknown.join(', ')}`);
  const layers = findWeightLayers(graph).filter((l) => !exclude.has(l.node.name));
  const recipes: LayerRecipe[] = [];
  const rewrites = layers.map((layer) => {
    // QConv has no float-activation mode: a conv left on it quantizes its activations dynamically.
    const floatOnInt8 = layer.kind === 'conv' && !int4Conv(layer) && options.activations.kind === 'float';
    const e = encode(layer, { ...options, activations: floatOnInt8 ? { kind: 'dynamic' } : options.activations });
    recipes.push({ node: layer.node.name, opType: e.opType, format: e.format, n: layer.n, k: layer.k, actScale: e.attrs.act_scale as number | undefined });
    return [layer, e] as const;
  });
  const rewritten = rewriteLayers(graph, rewrites);
  return {
    model: { ...model, graph: rewritten },
    recipe: {
      weights: options.weights, sparsity: options.sparsity, activations: options.activations.kind,
      layers: recipes, excluded: [...exclude],
    },
  };
}
