import { ShapeError, UnsupportedOpError } from '../../core/errors.js';
import type { Attrs, Node } from '../../core/ir/graph.js';
import { allocData, sizeOf, tensor, type DType, type Tensor } from '../../core/tensor.js';
import type { CpuOpPlan, KnownValue, OpDef } from '../op.js';
import { broadcastDims, broadcastStrides } from '../shared/broadcast.js';
import { broadcastProgram, type BoundOperand } from './broadcast-kernel.js';
import { elementwiseCall, foldCalls, type CpuOperand, type CpuOpName } from './cpu-kernel.js';
import { SCALAR_OPS, type CpuCodes, type ScalarOp } from './scalar-ops.js';
import { keepNan, NAN_FNS, wgslType } from '../wgsl.js';

/**
 * Elementwise operators: every entry of SCALAR_OPS, plus Clip (bounds as optional inputs or, before
 * opset 11, attributes) and Cast (output dtype from an attribute).
 */

function broadcastReference(
  operands: readonly Tensor[],
  outDtype: DType,
  f: (args: number[]) => number,
): Tensor {
  const dims = broadcastDims(operands.map((o) => o.dims));
  const n = sizeOf(dims);
  const data = allocData(outDtype, n);
  const strides = operands.map((o) => broadcastStrides(o.dims, dims));
  const args = new Array<number>(operands.length);
  const coord = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < operands.length; k++) {
      let off = 0;
      for (let d = 0; d < dims.length; d++) off += coord[d]! * strides[k]![d]!;
      args[k] = operands[k]!.data[off]!;
    }
    data[i] = f(args);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++coord[d]! < dims[d]!) break;
      coord[d] = 0;
    }
  }
  return { dtype: outDtype, dims, data };
}

function checkArity(op: ScalarOp, count: number, opType: string): void {
  if (op.arity === 'variadic' ? count < 1 : count !== op.arity) {
    throw new ShapeError(`${opType} takes ${op.arity === 'variadic' ? 'one or more' : op.arity} input(s), got ${count}`);
  }
}

/** The CPU code for inputs of `dtype`, or an error naming the node when there is none. */
function cpuCode(codes: CpuCodes, dtype: DType, node: Node): CpuOpName {
  const code = dtype === 'float32' ? codes.f32 : codes.i32;
  if (!code) throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: `no CPU kernel for ${dtype} inputs` }]);
  return code;
}

function fromTable(opType: string, op: ScalarOp): OpDef {
  return {
    shape(inputs, { node }) {
      const ins = inputs.filter((v): v is KnownValue => !!v);
      checkArity(op, ins.length, opType);
      return [{ dtype: op.out(ins.map((v) => v.dtype), node.attrs), dims: broadcastDims(ins.map((v) => v.dims)) }];
    },
    reference(inputs, { node }) {
      const ins = inputs.filter((v): v is Tensor => !!v);
      const outDtype = op.out(ins.map((v) => v.dtype), node.attrs);
      const argDtype = opType === 'Where' ? ins[1]!.dtype : ins[0]!.dtype;
      return [broadcastReference(ins, outDtype, (args) => op.ref(args, argDtype, node.attrs))];
    },
    webgpu({ inputs, outputs, node }) {
      const ins = inputs.map((v, input) => (v ? { ...v, input } : undefined)).filter((v): v is BoundOperand => !!v);
      return {
        kind: 'dispatch',
        programs: [broadcastProgram(ins, outputs[0]!, (args, types) => op.wgsl(args, types, node.attrs), op.helpers)],
      };
    },
    cpu({ inputs, outputs, node }) {
      const ins = inputs.map((v, input) => (v ? { dims: v.dims, dtype: v.dtype, binding: { input } } : undefined)).filter((v) => !!v);
      const out = outputs[0]!.dims;
      const codes = typeof op.cpu === 'function' ? op.cpu(node.attrs, ins.map((v) => v.dtype)) : op.cpu;
      const code = cpuCode(codes, ins[opType === 'Where' ? 1 : 0]!.dtype, node);
      if (op.arity !== 'variadic') {
        return { kind: 'call', calls: sizeOf(out) ? [elementwiseCall(code, ins, out, codes.params?.(node.attrs))] : [] };
      }
      const calls = foldCalls(code, ins, out);
      if (opType !== 'Mean' || ins.length === 1 || !calls.length) return { kind: 'call', calls };
      // Mean (float-only in ONNX) is the Sum divided by the count, a scalar the plan packs.
      const acc: CpuOperand = { dims: out, binding: { output: 0 } };
      const count: CpuOperand = { dims: [], binding: { constant: 0 } };
      return {
        kind: 'call',
        calls: [...calls, elementwiseCall('DIV_F32', [acc, count], out)],
        constants: [tensor('float32', [], [ins.length])],
      };
    },
  };
}

const ONNX_DTYPES: Record<number, DType> = { 1: 'float32', 2: 'int32', 3: 'int32', 4: 'int32', 5: 'int32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float32', 11: 'float32', 12: 'int32', 13: 'int64' };

function castTarget(attrs: Attrs): DType {
  const to = attrs.to;
  const dtype = typeof to === 'number' ? ONNX_DTYPES[to] : undefined;
  if (!dtype) throw new ShapeError(`Cast to ONNX type ${String(to)} is not supported`);
  return dtype;
}

function castCode(from: DType, to: DType): CpuOpName {
  if (from === 'float32') return to === 'float32' ? 'COPY' : to === 'bool' ? 'F32_TO_BOOL' : 'F32_TO_I32';
  // Integer and bool words differ only in that bools are 0 or 1.
  if (to === 'float32') return 'I32_TO_F32';
  return to === 'bool' && from !== 'bool' ? 'I32_TO_BOOL' : 'COPY';
}

function castValue(x: number, to: DType): number {
  if (to === 'bool') return x !== 0 ? 1 : 0;
  if (to === 'float32') return x;
  if (Number.isNaN(x)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(x)));
}

const Cast: OpDef = {
  shape: ([x], { node }) => [{ dtype: castTarget(node.attrs), dims: x!.dims }],
  reference([x], { node }) {
    const to = castTarget(node.attrs);
    const data = allocData(to, x!.data.length);
    for (let i = 0; i < data.length; i++) data[i] = castValue(x!.data[i]!, to);
    return [{ dtype: to, dims: x!.dims, data }];
  },
  webgpu({ inputs: [x], outputs: [out] }) {
    const from = wgslType(x!.dtype);
    const to = wgslType(out!.dtype);
    const expr = (a: string): string => {
      if (from === to) return a;
      if (to === 'u32') return `u32(${a} != ${from}(0))`;
      return `${to}(${a})`;
    };
    return { kind: 'dispatch', programs: [broadcastProgram([{ ...x!, input: 0 }], out!, ([a]) => expr(a!))] };
  },
  cpu({ inputs: [x], outputs: [out] }) {
    const n = sizeOf(out!.dims);
    return { kind: 'call', calls: n ? [elementwiseCall(castCode(x!.dtype, out!.dtype), [{ dims: [n], binding: { input: 0 } }], [n])] : [] };
  },
};

/** Clip's bounds: inputs 1 and 2 from opset 11 on (either may be omitted), attributes before. */
function clipBounds(inputs: readonly ({ readonly data: ArrayLike<number> } | undefined)[], attrs: Attrs, opset: number): [number, number] {
  if (opset < 11) {
    return [typeof attrs.min === 'number' ? attrs.min : -Infinity, typeof attrs.max === 'number' ? attrs.max : Infinity];
  }
  return [inputs[1] ? inputs[1].data[0]! : -Infinity, inputs[2] ? inputs[2].data[0]! : Infinity];
}

const Clip: OpDef = {
  shape: ([x]) => [{ dtype: x!.dtype, dims: x!.dims }],
  reference(inputs, { node, opset }) {
    const x = inputs[0]!;
    const [lo, hi] = clipBounds(inputs, node.attrs, opset);
    const data = allocData(x.dtype, x.data.length);
    for (let i = 0; i < data.length; i++) data[i] = Math.min(Math.max(x.data[i]!, lo), hi);
    return [{ dtype: x.dtype, dims: x.dims, data }];
  },
  webgpu({ inputs, outputs, opset, node }) {
    const x = inputs[0]!;
    // Bound inputs are operands (usually scalars), so one pipeline serves every Clip of a rank;
    // attribute bounds (before opset 11) are baked in as literals.
    const operands: BoundOperand[] = [{ ...x, input: 0 }];
    const [alo, ahi] = clipBounds([], node.attrs, opset);
    const t = wgslType(x.dtype);
    const bound = (i: 1 | 2, v: number): string => {
      const input = opset >= 11 ? inputs[i] : undefined;
      if (input) return `a${operands.push({ ...input, input: i }) - 1}`;
      return Number.isFinite(v) ? `${t}(${v})` : '';
    };
    const lo = bound(1, alo);
    const hi = bound(2, ahi);
    // On floats a NaN x, or a NaN bound input, is selected back after WGSL's max/min (which may
    // drop NaN), as Math.max/min in the reference and the C kernel's f32x4 max/min propagate it.
    // Literal bounds are finite numbers, so only x and bound inputs need the bit test.
    const expr = (a: string): string => {
      const l = lo ? `max(${a}, ${lo})` : a;
      const v = hi ? `min(${l}, ${hi})` : l;
      if (t !== 'f32') return v;
      return [hi, lo, a].filter((o) => /^a\d+$/.test(o)).reduce((e, o) => keepNan(e, o), v);
    };
    return { kind: 'dispatch', programs: [broadcastProgram(operands, outputs[0]!, ([a]) => expr(a!), t === 'f32' ? NAN_FNS : '')] };
  },
  cpu({ inputs, outputs, opset, node }): CpuOpPlan {
    const x = inputs[0]!;
    const out = outputs[0]!.dims;
    if (!sizeOf(out)) return { kind: 'call', calls: [] };
    // Always three operands: a bound given as an input is read where it lies; an attribute or
    // omitted one becomes a packed scalar (the dtype's extreme when omitted).
    const isFloat = x.dtype === 'float32';
    const [alo, ahi] = clipBounds([], node.attrs, opset);
    const constants: Tensor[] = [];
    const bound = (i: 1 | 2, v: number): CpuOperand => {
      const input = opset >= 11 ? inputs[i] : undefined;
      if (input) return { dims: input.dims, binding: { input: i } };
      const value = isFloat || Number.isFinite(v) ? v : v > 0 ? 2147483647 : -2147483648;
      constants.push(tensor(x.dtype, [], [value]));
      return { dims: [], binding: { constant: constants.length - 1 } };
    };
    const operands = [{ dims: x.dims, binding: { input: 0 } }, bound(1, alo), bound(2, ahi)];
    return { kind: 'call', calls: [elementwiseCall(isFloat ? 'CLIP_F32' : 'CLIP_I32', operands, out)], constants };
  },
};

export const elementwiseOps: Record<string, OpDef> = {
  ...Object.fromEntries(Object.entries(SCALAR_OPS).map(([k, op]) => [k, fromTable(k, op)])),
  Cast,
  Clip,
};
