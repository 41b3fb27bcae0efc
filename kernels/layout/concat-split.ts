import { ShapeError } from '../../core/errors.js';
import { attrInt, attrInts } from '../../core/ir/graph.js';
import { allocData, sizeOf, stridesOf, type Tensor } from '../../core/tensor.js';
import type { KnownValue, OpContext, OpDef } from '../op.js';
import { fmt, intsOf, normAxis, type Operand } from './common.js';
import { stridedProgram } from './strided-kernel.js';
import { twinFaces } from './twin.js';

/**
 * Concat and Split: one strided copy per input (Concat, scattering into its slice of the output) or
 * per output (Split, gathering from its slice of the input), so each dispatch is a plain copy with
 * no per-element search for the owning tensor.
 */

function concatShape(inputs: readonly Operand[], { node }: OpContext): { axis: number; dims: number[] } {
  const ins = inputs.filter((v): v is KnownValue | Tensor => !!v);
  if (ins.length === 0) throw new ShapeError('Concat needs at least one input');
  const first = ins[0]!.dims;
  if (!('axis' in node.attrs)) throw new ShapeError('Concat needs an axis attribute');
  const axis = normAxis(attrInt(node.attrs, 'axis', 0), first.length, 'Concat axis');
  let total = 0;
  for (const v of ins) {
    if (v.dtype !== ins[0]!.dtype) throw new ShapeError(`Concat inputs mix ${ins[0]!.dtype} and ${v.dtype}`);
    if (v.dims.length !== first.length || v.dims.some((d, i) => i !== axis && d !== first[i])) {
      throw new ShapeError(`Concat inputs ${fmt(first)} and ${fmt(v.dims)} differ off axis ${axis}`);
    }
    total += v.dims[axis]!;
  }
  return { axis, dims: first.map((d, i) => (i === axis ? total : d)) };
}

const Concat: OpDef = {
  shape(inputs, ctx) {
    return [{ dtype: inputs[0]!.dtype, dims: concatShape(inputs, ctx).dims }];
  },
  reference(inputs, ctx) {
    const { axis, dims } = concatShape(inputs, ctx);
    const ins = inputs.filter((v): v is Tensor => !!v);
    const data = allocData(ins[0]!.dtype, sizeOf(dims));
    // Row-major: for each index over the leading axes, the inputs' blocks follow one another.
    const outer = sizeOf(dims.slice(0, axis));
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const t of ins) {
        const block = sizeOf(t.dims.slice(axis));
        data.set(t.data.subarray(i * block, (i + 1) * block), o);
        o += block;
      }
    }
    return [{ dtype: ins[0]!.dtype, dims, data }];
  },
  ...twinFaces(({ inputs, outputs: [out], node, opset }) => {
    const { axis } = concatShape(inputs, { node, opset });
    const outStrides = stridesOf(out!.dims);
    let offset = 0;
    const programs = inputs.flatMap((v, input) => {
      if (!v) return [];
      const strides = stridesOf(v.dims);
      const axes = v.dims.map((n, d) => ({ n, srcStride: strides[d]!, dstStride: outStrides[d]! }));
      const dstBase = offset * outStrides[axis]!;
      offset += v.dims[axis]!;
      return stridedProgram({ dtype: v.dtype, src: input, dst: 0, axes, dstBase });
    });
    return { kind: 'dispatch', programs };
  }),
};

/** Split sizes: `split` attribute (before 13) or input (from 13), else num_outputs (18+) or an even split. */
function splitSizes(inputs: readonly Operand[], { node, opset }: OpContext): { axis: number; sizes: number[] } {
  const x = inputs[0]!;
  const axis = normAxis(attrInt(node.attrs, 'axis', 0), x.dims.length, 'Split axis');
  const dim = x.dims[axis]!;
  const count = node.outputs.length;
  const given = opset < 13 ? attrInts(node.attrs, 'split')?.slice() : inputs[1] ? intsOf(inputs[1], 'Split split') : undefined;
  let sizes: number[];
  if (given) {
    sizes = given;
  } else if (opset >= 18 && 'num_outputs' in node.attrs) {
    const parts = attrInt(node.attrs, 'num_outputs', count);
    if (parts !== count) throw new ShapeError(`Split num_outputs ${parts} but the node has ${count} outputs`);
    // Ceil-sized chunks, the last one smaller (ONNX 18).
    const chunk = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  } else {
    if (dim % count !== 0) throw new ShapeError(`Split of axis ${axis} (${dim}) into ${count} equal parts`);
    sizes = new Array<number>(count).fill(dim / count);
  }
  if (sizes.length !== count || sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== dim) {
    throw new ShapeError(`Split sizes ${fmt(sizes)} must be ${count} non-negative parts of axis ${axis} (${dim})`);
  }
  return { axis, sizes };
}

/** Output k's dims and where its slice starts along the axis. */
function splitParts(inputs: readonly Operand[], ctx: OpContext): { axis: number; dims: number[]; start: number }[] {
  const { axis, sizes } = splitSizes(inputs, ctx);
  let start = 0;
  return sizes.map((s) => {
    const part = { axis, dims: inputs[0]!.dims.map((d, i) => (i === axis ? s : d)), start };
    start += s;
    return part;
  });
}

const Split: OpDef = {
  shape: (inputs, ctx) => splitParts(inputs, ctx).map((p) => ({ dtype: inputs[0]!.dtype, dims: p.dims })),
  reference(inputs, ctx) {
    const x = inputs[0]!;
    // Row-major: for each index over the leading axes, output k takes its block of the input's.
    return splitParts(inputs, ctx).map(({ axis, dims, start }) => {
      const outer = sizeOf(x.dims.slice(0, axis));
      const inBlock = sizeOf(x.dims.slice(axis));
      const block = sizeOf(dims.slice(axis));
      const skip = start * sizeOf(dims.slice(axis + 1));
      const data = allocData(x.dtype, sizeOf(dims));
      for (let i = 0; i < outer; i++) data.set(x.data.subarray(i * inBlock + skip, i * inBlock + skip + block), i * block);
      return { dtype: x.dtype, dims, data };
    });
  },
  constInputs: [1],
  ...twinFaces(({ inputs, node, opset }) => {
    const x = inputs[0]!;
    const strides = stridesOf(x.dims);
    const programs = splitParts(inputs, { node, opset }).flatMap(({ axis, dims, start }, k) => {
      if (!node.outputs[k]) return [];
      const axes = dims.map((n, d) => ({ n, start: d === axis ? start : 0, srcStride: strides[d]! }));
      return stridedProgram({ dtype: x.dtype, src: 0, dst: k, axes });
    });
    return { kind: 'dispatch', programs };
  }),
};

export const concatSplitOps: Record<string, OpDef> = { Concat, Split };
