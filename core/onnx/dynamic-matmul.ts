import { attrInt, type Node } from '../ir/graph.js';
import { sizeOf } from '../tensor.js';
import type { ImportGraph } from './import-graph.js';
import type { QuantizedConstant } from './qdq.js';

/**
 * ONNX Runtime's dynamic quantization (`quantize_dynamic`) writes each MatMul as
 *   DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast(float) → Mul(·, x_scale · W_scale)
 * with the bias Add left after it. This pass puts a MatMul over the dequantized weight back in the
 * pattern's place and hands the weight's integers to the layer rewrite, which makes it a QMatMul
 * with a dynamic activation scale. ORT's activation scale is per tensor and asymmetric (uint8),
 * Tessera's per row and symmetric: the results are close, not equal, and the layer rewrite notes it.
 */

const FLOAT = 1;

/** The one node reading `name`, when it has type `opType` and `name` is no graph output. */
function soleReader(g: ImportGraph, name: string, opType: string): Node | undefined {
  const readers = g.readers(name);
  return readers.length === 1 && readers[0]!.opType === opType && !g.isGraphOutput(name) ? readers[0] : undefined;
}

/** x_scale · W_scale: a Mul of the DynamicQuantizeLinear's scale and a constant, in either order. */
function weightScale(g: ImportGraph, name: string | undefined, xScale: string): string | undefined {
  const mul = g.producer(name);
  if (!mul || mul.opType !== 'Mul' || !mul.inputs.includes(xScale)) return undefined;
  return mul.inputs.find((v) => v !== xScale) ?? xScale;
}

/** Rewrites every match; returns the folded weights by name and the MatMuls now standing for them. */
export function rewriteDynamicMatMuls(g: ImportGraph): { weights: Map<string, QuantizedConstant>; layers: Set<string> } {
  const weights = new Map<string, QuantizedConstant>();
  const layers = new Set<string>();
  for (const mmi of [...g.nodes]) {
    if (mmi.opType !== 'MatMulInteger' || mmi.domain !== '') continue;
    const dql = g.producer(mmi.inputs[0]);
    if (!dql || dql.opType !== 'DynamicQuantizeLinear' || mmi.inputs[2] !== dql.outputs[2]) continue;
    const wq = g.constant(mmi.inputs[1]);
    const wzp = mmi.inputs[3] ? g.constant(mmi.inputs[3]) : undefined;
    if (!wq || wq.dims.length !== 2 || (mmi.inputs[3] && !wzp)) continue;
    const cast = soleReader(g, mmi.outputs[0]!, 'Cast');
    if (!cast || attrInt(cast.attrs, 'to', 0) !== FLOAT) continue;
    const mul = soleReader(g, cast.outputs[0]!, 'Mul');
    const scaleName = mul?.inputs.find((v) => v !== cast.outputs[0]);
    const wsName = weightScale(g, scaleName, dql.outputs[1]!);
    const ws = g.constant(wsName);
    const [k, n] = wq.dims as [number, number];
    const perColumn = (size: number): boolean => size === 1 || size === n;
    if (!mul || !ws || !perColumn(sizeOf(ws.dims)) || (wzp && !perColumn(sizeOf(wzp.dims)))) continue;
    const at = (t: ArrayLike<number>, j: number): number => t[t.length === 1 ? 0 : j]!;
    const ints = Float32Array.from(wq.data, (q, i) => q - (wzp ? at(wzp.data, i % n) : 0));
    const name = `${mmi.name}.weights`;
    g.initializers.set(name, { dtype: 'float32', dims: [k, n], data: Float32Array.from(ints, (v, i) => v * at(ws.data, i % n)) });
    weights.set(name, { node: mmi.name, dims: [k, n], ints, scale: Float32Array.from(ws.data), axis: ws.data.length === 1 ? -1 : 1 });
    g.replace([mmi, cast], mul, { name: mmi.name, opType: 'MatMul', domain: '', inputs: [dql.inputs[0]!, name], outputs: mul.outputs, attrs: {} });
    layers.add(mmi.name);
  }
  return { weights, layers };
}
