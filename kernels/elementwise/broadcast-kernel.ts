import type { DType } from '../../core/tensor.js';
import { sizeOf } from '../../core/tensor.js';
import type { GpuProgram } from '../op.js';
import { broadcastStrides } from '../shared/broadcast.js';
import { dispatch1d, paramsDecl, Params, wgslType } from '../wgsl.js';

/**
 * Elementwise n-ary kernel with numpy broadcasting.
 *
 * Computes out[i] = EXPR(in0[o0(i)], in1[o1(i)], …) for every output element i, one invocation per
 * element, workgroup 256 (the largest size every adapter must support, which keeps the dispatch
 * count low on big tensors). Each operand is specialised by how it is read: `same` (shape equals the
 * output: offset i), `scalar` (offset 0) or `strided` (offset from the output coordinates and
 * broadcast strides held in the uniform block). Only strided operands pay for the div/mod walk, and
 * the walk is shared by all of them. Dims and strides live in uniforms, so one pipeline serves every
 * shape of a given (expression, types, rank, read modes).
 */

type ReadMode = 'same' | 'scalar' | 'strided';

export interface Operand {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

/** An operand bound to the node input it reads (positions differ when optional inputs are omitted). */
export interface BoundOperand extends Operand {
  readonly input: number;
}

const WG = 256;

function readMode(dims: readonly number[], outDims: readonly number[]): ReadMode {
  if (sizeOf(dims) === 1) return 'scalar';
  if (dims.length === outDims.length && dims.every((d, i) => d === outDims[i])) return 'same';
  return 'strided';
}

export function broadcastProgram(
  operands: readonly BoundOperand[],
  out: Operand,
  expression: (args: readonly string[], types: readonly string[]) => string,
  helpers = '',
): GpuProgram {
  const modes = operands.map((o) => readMode(o.dims, out.dims));
  const types = operands.map((o) => wgslType(o.dtype));
  const rank = out.dims.length;
  const strided = modes.map((m, i) => (m === 'strided' ? i : -1)).filter((i) => i >= 0);

  const params = new Params().u32s(sizeOf(out.dims)).u32s(...out.dims);
  for (const i of strided) params.u32s(...broadcastStrides(operands[i]!.dims, out.dims));

  const decls = operands
    .map((_, i) => `@group(0) @binding(${i}) var<storage, read> in${i}: array<${types[i]}>;`)
    .join('\n');
  const walk = strided.length
    ? `  var rem = idx;
${strided.map((i) => `  var off${i} = 0u;`).join('\n')}
  for (var d = ${rank - 1}i; d >= 0; d--) {
    let dim = p_u(1u + u32(d));
    let c = rem % dim;
    rem = rem / dim;
${strided.map((i, k) => `    off${i} += c * p_u(${1 + rank + k * rank}u + u32(d));`).join('\n')}
  }
`
    : '';
  const loads = modes
    .map((m, i) => `  let a${i} = in${i}[${m === 'same' ? 'idx' : m === 'scalar' ? '0u' : `off${i}`}];`)
    .join('\n');
  const code = `${decls}
@group(0) @binding(${operands.length}) var<storage, read_write> out: array<${wgslType(out.dtype)}>;
${paramsDecl(operands.length + 1, params.length)}
${helpers}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * ${WG}u;
  if (idx >= p_u(0u)) { return; }
${walk}${loads}
  out[idx] = ${expression(operands.map((_, i) => `a${i}`), types)};
}
`;
  return {
    code,
    workgroups: dispatch1d(sizeOf(out.dims), WG),
    bindings: [...operands.map((o) => ({ input: o.input })), { output: 0 }],
    uniforms: params.pack(),
  };
}
