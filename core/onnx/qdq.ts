import { ModelFormatError } from '../errors.js';
import { attrInt, type Node } from '../ir/graph.js';
import { sizeOf, stridesOf, type Tensor } from '../tensor.js';
import { refuseNode, type ImportGraph } from './import-graph.js';

/**
 * QuantizeLinear / DequantizeLinear as ONNX defines them (y = (x − zero_point) · scale, per tensor
 * or per `axis`), read for the import of QDQ models: a DequantizeLinear of a constant folds to its
 * float value and remembers the integers; a QuantizeLinear → DequantizeLinear pair over activations
 * becomes a description of the scale, for the layer it feeds.
 */

/** A constant the model held quantized: value = scale[i along axis] · ints, ints = q − zero_point in its own layout. */
export interface QuantizedConstant {
  readonly node: string;
  readonly dims: readonly number[];
  readonly ints: Float32Array;
  /** One scale (per tensor) or one per index along `axis`. */
  readonly scale: Float32Array;
  readonly axis: number;
}

interface Params {
  readonly scale: Float32Array;
  readonly zeroPoint: ArrayLike<number> | undefined;
  readonly axis: number;
}

/** The scale and zero point of a (De)QuantizeLinear over a value of `dims`, checked against each other. */
function params(g: ImportGraph, node: Node, dims: readonly number[]): Params | undefined {
  const scale = g.constant(node.inputs[1]);
  if (!scale) return undefined;
  if (attrInt(node.attrs, 'block_size', 0) !== 0) throw refuseNode(node, 'blocked quantization (block_size) is not imported');
  const zp = node.inputs[2] ? g.constant(node.inputs[2]) : undefined;
  if (node.inputs[2] && !zp) return undefined;
  const rank = dims.length;
  const axis = attrInt(node.attrs, 'axis', 1);
  const ax = axis < 0 ? axis + rank : axis;
  const perTensor = sizeOf(scale.dims) === 1 && scale.dims.length <= 1;
  if (!perTensor && (scale.dims.length !== 1 || ax < 0 || ax >= rank || scale.dims[0] !== dims[ax])) {
    throw new ModelFormatError(
      `${node.opType} "${node.name}": scale has dims [${scale.dims.join(', ')}]; a value of dims [${dims.join(', ')}] needs ` +
      `a scalar or [${ax >= 0 && ax < rank ? dims[ax] : '?'}] along axis ${axis}`,
    );
  }
  if (zp && (zp.dims.length !== scale.dims.length || sizeOf(zp.dims) !== sizeOf(scale.dims))) {
    throw new ModelFormatError(`${node.opType} "${node.name}": zero point has dims [${zp.dims.join(', ')}], its scale [${scale.dims.join(', ')}]`);
  }
  return { scale: Float32Array.from(scale.data), zeroPoint: zp?.data, axis: perTensor ? -1 : ax };
}

/** Index along `axis` of each flat element of a row-major tensor of `dims` (0 for all when axis < 0). */
function axisIndexOf(dims: readonly number[], axis: number): (i: number) => number {
  if (axis < 0) return () => 0;
  const stride = stridesOf(dims)[axis]!;
  const size = dims[axis]!;
  return (i) => Math.floor(i / stride) % size;
}

/**
 * Folds every DequantizeLinear of a constant into a float initializer under its output's name
 * (exactly ONNX's f32((q − zp) · scale)), and returns what it held, by that name.
 */
export function foldConstantDequantize(g: ImportGraph): Map<string, QuantizedConstant> {
  const folded = new Map<string, QuantizedConstant>();
  for (const node of [...g.nodes]) {
    if (node.opType !== 'DequantizeLinear' || node.domain !== '') continue;
    const x = g.constant(node.inputs[0]);
    if (!x) continue;
    const p = params(g, node, x.dims);
    if (!p) continue;
    const at = axisIndexOf(x.dims, p.axis);
    const ints = Float32Array.from(x.data, (q, i) => q - (p.zeroPoint ? p.zeroPoint[at(i)]! : 0));
    const value = Float32Array.from(ints, (v, i) => v * p.scale[at(i)]!);
    const name = node.outputs[0]!;
    g.initializers.set(name, { dtype: 'float32', dims: x.dims, data: value });
    g.nodes = g.nodes.filter((n) => n !== node);
    folded.set(name, { node: node.name, dims: x.dims, ints, scale: p.scale, axis: p.axis });
  }
  return folded;
}

/** How a QuantizeLinear → DequantizeLinear pair in front of a layer maps onto its activation scale. */
export interface ActivationPair {
  readonly quantize: Node;
  readonly dequantize: Node;
  /** The float value the pair quantizes. */
  readonly input: string;
  /** Tessera's static scale, when the pair is symmetric int8 up to the clamp (see docs). */
  readonly actScale?: number;
  /** Why not, otherwise. */
  readonly why?: string;
}

/** ONNX TensorProto element types QuantizeLinear's output_dtype may name (opset 21). */
const OUTPUT_DTYPE: Record<number, 'int8' | 'uint8'> = { 2: 'uint8', 3: 'int8' };

/** Every DequantizeLinear reading a QuantizeLinear with the same constant scale and zero point, by the DQ output. */
export function activationPairs(g: ImportGraph): Map<string, ActivationPair> {
  const pairs = new Map<string, ActivationPair>();
  for (const dq of g.nodes) {
    if (dq.opType !== 'DequantizeLinear' || dq.domain !== '') continue;
    const q = g.producer(dq.inputs[0]);
    if (!q || q.opType !== 'QuantizeLinear' || q.domain !== '') continue;
    const [qs, qz] = [g.constant(q.inputs[1]), q.inputs[2] ? g.constant(q.inputs[2]) : undefined];
    const [ds, dz] = [g.constant(dq.inputs[1]), dq.inputs[2] ? g.constant(dq.inputs[2]) : undefined];
    if (!qs || !ds || (q.inputs[2] && !qz) || (dq.inputs[2] && !dz)) continue;
    const base = { quantize: q, dequantize: dq, input: q.inputs[0]! };
    const same = qs.data.length === ds.data.length && qs.data.every((v, i) => v === ds.data[i]) &&
      (qz?.data ?? [0]).length === (dz?.data ?? [0]).length && Array.from(qz?.data ?? [0]).every((v, i) => v === (dz?.data ?? [0])[i]);
    if (!same) {
      pairs.set(dq.outputs[0]!, { ...base, why: `QuantizeLinear "${q.name}" and DequantizeLinear "${dq.name}" disagree on scale or zero point` });
      continue;
    }
    if (qs.data.length !== 1) {
      pairs.set(dq.outputs[0]!, { ...base, why: `per-axis activation scales ("${q.name}")` });
      continue;
    }
    // No zero point: uint8 with zp 0 unless opset 21's output_dtype says otherwise.
    const type = q.inputs[2] ? g.stored.get(q.inputs[2]) : OUTPUT_DTYPE[attrInt(q.attrs, 'output_dtype', 2)];
    const zp = qz ? qz.data[0]! : 0;
    // q_u8 − 128 over [0, 255] is q_i8 over [−128, 127]: both are Tessera's symmetric q up to the
    // clamp, which Tessera stops at −127 (docs/compressed-formats.md, "Importing quantized ONNX").
    const symmetric = (type === 'int8' && zp === 0) || (type === 'uint8' && zp === 128);
    pairs.set(dq.outputs[0]!, symmetric
      ? { ...base, actScale: qs.data[0]! }
      : { ...base, why: `activation zero point ${zp} (${type ?? 'non-8-bit'}) at "${q.name}" is not symmetric` });
  }
  return pairs;
}

/**
 * Pairs left in front of anything but a rewritten layer are fake quantization: the value goes
 * through unquantized (an Identity in the DequantizeLinear's place), which the notes record.
 */
export function dropFakeQuantization(g: ImportGraph): void {
  for (const pair of activationPairs(g).values()) {
    const { dequantize: dq, input } = pair;
    g.replace([], dq, { name: dq.name, opType: 'Identity', domain: '', inputs: [input], outputs: dq.outputs, attrs: {} });
    g.notes.push(`${dq.name}: QuantizeLinear → DequantizeLinear over "${input}" feeds no imported layer; the value stays float (the rounding it simulated is dropped)`);
  }
}
