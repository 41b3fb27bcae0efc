import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, attrInts } from '../../core/ir/graph.js';
import { sizeOf, tensor } from '../../core/tensor.js';
import type { OpContext, OpDef } from '../op.js';
import { fmt, intsOf, normAxes, normAxis, valueOf, view, type Operand } from './common.js';
import { fillProgram, stridedProgram } from './strided-kernel.js';
import { twinFaces } from './twin.js';

/**
 * Pure views: output 0 has input 0's data with new dims. On WebGPU and the CPU they alias the
 * input's storage (no kernel); the reference returns the same data array under the new dims. (Dropout asked for its
 * mask is the one exception: it copies.)
 */

function viewOp(dimsOf: (inputs: readonly Operand[], ctx: OpContext) => number[], constInputs?: readonly number[]): OpDef {
  return {
    shape: (inputs, ctx) => [{ dtype: inputs[0]!.dtype, dims: dimsOf(inputs, ctx) }],
    reference: (inputs, ctx) => [view(inputs[0]!, dimsOf(inputs, ctx))],
    constInputs,
    webgpu: () => ({ kind: 'alias' }),
    cpu: () => ({ kind: 'alias' }),
  };
}

/** Reshape: 0 copies the input dim (unless allowzero, opset 14+), one -1 is inferred. */
function reshapeDims([x, shape]: readonly Operand[], { node }: OpContext): number[] {
  const target = intsOf(shape, 'Reshape shape');
  const allowZero = attrInt(node.attrs, 'allowzero', 0) === 1;
  const dims = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x!.dims.length) throw new ShapeError(`Reshape shape ${fmt(target)}: 0 at axis ${i} copies no input dim (input ${fmt(x!.dims)})`);
      return x!.dims[i]!;
    }
    if (d < -1) throw new ShapeError(`Reshape shape ${fmt(target)} has a negative dim other than -1`);
    return d;
  });
  const inferred = dims.filter((d) => d === -1).length;
  if (inferred > 1) throw new ShapeError(`Reshape shape ${fmt(target)} has more than one -1`);
  const total = sizeOf(x!.dims);
  if (inferred === 1) {
    const known = sizeOf(dims.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) throw new ShapeError(`Reshape cannot infer -1 in ${fmt(target)} for input ${fmt(x!.dims)}`);
    dims[dims.indexOf(-1)] = total / known;
  }
  if (sizeOf(dims) !== total) throw new ShapeError(`Reshape of ${fmt(x!.dims)} (${total} elements) to ${fmt(dims)} (${sizeOf(dims)})`);
  return dims;
}

/** Flatten: [prod(dims[:axis]), prod(dims[axis:])]; axis may equal the rank, or be negative (opset 11+). */
function flattenDims([x]: readonly Operand[], { node }: OpContext): number[] {
  const rank = x!.dims.length;
  const raw = attrInt(node.attrs, 'axis', 1);
  const axis = raw === rank ? rank : normAxis(raw, rank, 'Flatten axis');
  return [sizeOf(x!.dims.slice(0, axis)), sizeOf(x!.dims.slice(axis))];
}

/** Squeeze/Unsqueeze axes: attribute before opset 13, input 1 from 13 (optional for Squeeze). */
function axesOf(inputs: readonly Operand[], { node, opset }: OpContext, op: string): number[] | undefined {
  if (opset < 13) return attrInts(node.attrs, 'axes')?.slice();
  return inputs[1] ? intsOf(inputs[1], `${op} axes`) : undefined;
}

function squeezeDims(inputs: readonly Operand[], ctx: OpContext): number[] {
  const dims = inputs[0]!.dims;
  const given = axesOf(inputs, ctx, 'Squeeze');
  if (!given) return dims.filter((d) => d !== 1);
  const axes = new Set(normAxes(given, dims.length, 'Squeeze axis'));
  for (const a of axes) {
    if (dims[a] !== 1) throw new ShapeError(`Squeeze axis ${a} of ${fmt(dims)} is ${dims[a]}, not 1`);
  }
  return dims.filter((_, i) => !axes.has(i));
}

function unsqueezeDims(inputs: readonly Operand[], ctx: OpContext): number[] {
  const dims = inputs[0]!.dims;
  const given = axesOf(inputs, ctx, 'Unsqueeze');
  if (!given) throw new ShapeError('Unsqueeze needs axes');
  const rank = dims.length + given.length;
  const axes = new Set(normAxes(given, rank, 'Unsqueeze axis'));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.has(i) ? 1 : dims[k++]!);
  return out;
}

/** Dropout is the identity at inference, and in training mode with ratio 0; the mask is all true. */
function checkInference(inputs: readonly Operand[], { node, opset }: OpContext): void {
  const training = valueOf(inputs[2]);
  if (inputs[2] && !training) throw new ShapeError('Dropout training_mode must be known at load');
  const ratio = opset < 12 ? attrFloat(node.attrs, 'ratio', 0.5) : inputs[1] ? valueOf(inputs[1])?.data[0] : 0.5;
  if (training?.data[0] && ratio !== 0) throw new ShapeError('Dropout in training mode is not supported (inference only)');
}

const Dropout: OpDef = {
  shape(inputs, ctx) {
    checkInference(inputs, ctx);
    const x = inputs[0]!;
    return [{ dtype: x.dtype, dims: x.dims }, { dtype: 'bool', dims: x.dims }];
  },
  reference(inputs, ctx) {
    checkInference(inputs, ctx);
    const x = inputs[0]!;
    return [x, tensor('bool', x.dims, new Uint8Array(x.data.length).fill(1))];
  },
  constInputs: [2],
  ...twinFaces(({ inputs: [x], node }) => {
    if (!node.outputs[1]) return { kind: 'alias' };
    // An alias cannot produce the mask's buffer: copy the data, fill the mask.
    const n = sizeOf(x!.dims);
    return {
      kind: 'dispatch',
      programs: [...stridedProgram({ dtype: x!.dtype, src: 0, dst: 0, axes: [{ n, srcStride: 1 }] }), ...fillProgram('bool', n, 1, 0, 1)],
    };
  }),
};

export const viewOps: Record<string, OpDef> = {
  Reshape: viewOp(reshapeDims, [1]),
  Flatten: viewOp(flattenDims),
  Squeeze: viewOp(squeezeDims, [1]),
  Unsqueeze: viewOp(unsqueezeDims, [1]),
  Identity: viewOp(([x]) => [...x!.dims]),
  Dropout,
};
