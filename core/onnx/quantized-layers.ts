import type { AttrValue } from '../ir/graph.js';
import { findWeightLayers, scaledWeights, transposeKN, type WeightLayer } from '../compress/layers.js';
import { int8Encoding, rewriteLayers, type Encoded } from '../compress/rewrite-layers.js';
import { packInt8Rows, QMAX, quantizeWeightsPerChannel, type QuantizedWeights } from '../../kernels/quant/pack.js';
import type { ImportGraph } from './import-graph.js';
import { activationPairs, type QuantizedConstant } from './qdq.js';

/**
 * MatMul / Gemm / Conv layers whose weights the model holds quantized become QMatMul / QConv
 * (docs/compressed-formats.md, "Importing quantized ONNX"). The integers are carried over as they
 * are when Tessera's format can hold them; otherwise the float weights are quantized again, and the
 * notes say so.
 */

/** The integers as QMatMul rows, or why they cannot be. */
function carriedOver(layer: WeightLayer, w: QuantizedConstant): QuantizedWeights | string {
  const { n, k } = layer;
  // The output channel is axis 1 of a MatMul/Gemm [K, N] weight, axis 0 of [N, K] and of conv filters.
  const channelAxis = layer.stored === 'kn' ? 1 : 0;
  if (w.axis >= 0 && w.axis !== channelAxis) return `its scales vary along axis ${w.axis}, not along the output channels`;
  const outside = w.ints.find((v) => Math.abs(v) > QMAX);
  if (outside !== undefined) return `q − zero_point reaches ${outside}, outside the symmetric range [-${QMAX}, ${QMAX}]`;
  const rows = layer.stored === 'kn' ? transposeKN({ data: w.ints }, k, n) : w.ints;
  const scales = Float32Array.from({ length: n }, (_, j) => w.scale[w.axis < 0 ? 0 : j]! * layer.alpha);
  return { packed: packInt8Rows(rows, n, k), scales };
}

function weightsOf(layer: WeightLayer, w: QuantizedConstant, notes: string[]): QuantizedWeights {
  const q = carriedOver(layer, w);
  if (typeof q !== 'string') return q;
  notes.push(`${layer.node.name}: weights of "${w.node}" quantized again per output channel, as ${q}`);
  const scaled = scaledWeights(layer);
  return quantizeWeightsPerChannel(scaled, layer.n, layer.k);
}

/**
 * Rewrites the layers reading a folded quantized constant as their weight. `dynamic` names layers
 * whose activations the model quantized at run time (MatMulInteger), which keep the dynamic scale.
 */
export function rewriteQuantizedLayers(g: ImportGraph, weights: ReadonlyMap<string, QuantizedConstant>, dynamic: ReadonlySet<string>): void {
  const pairs = activationPairs(g);
  const rewrites = findWeightLayers(g.graph()).flatMap((layer): (readonly [WeightLayer, Encoded])[] => {
    const w = weights.get(layer.node.inputs[1]!);
    if (!w) return [];
    const pair = pairs.get(layer.input);
    let acts: Record<string, AttrValue> = {};
    if (pair?.actScale !== undefined) acts = { act_scale: pair.actScale };
    else if (pair) g.notes.push(`${layer.node.name}: activations take a dynamic per-row scale, as ${pair.why}`);
    else if (dynamic.has(layer.node.name)) {
      g.notes.push(`${layer.node.name}: DynamicQuantizeLinear's per-tensor asymmetric uint8 activations become QMatMul's per-row symmetric int8 ones (close, not equal)`);
    } else g.notes.push(`${layer.node.name}: activations are float in the model; QMatMul/QConv quantize them with a dynamic per-row scale`);
    return [[{ ...layer, input: pair?.input ?? layer.input }, int8Encoding(layer, weightsOf(layer, w, g.notes), acts)]];
  });
  if (rewrites.length) g.adopt(rewriteLayers(g.graph(), rewrites));
}
