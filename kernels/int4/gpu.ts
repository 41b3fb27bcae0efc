import type { BindingRef, GpuOpArgs, GpuOpPlan } from '../op.js';
import { nodeActivationFn } from '../matmul/epilogue.js';
import { paramsDecl, Params } from '../wgsl.js';
import { q4Geometry } from './geometry.js';
import { zeroPointWords } from './pack.js';
import { scaleBinding } from './scales.js';
import src from './q4matmul.wgsl';

/** Invocations per workgroup along N (q4matmul.wgsl). */
const WG = 64;
const MAX_WORKGROUPS = 65535;

interface Binding {
  readonly name: string;
  readonly type: string;
  readonly ref: BindingRef;
}

/** Plans q4matmul.wgsl; optional inputs (zero points, bias) are bound only when present. */
export function q4GpuPlan(args: GpuOpArgs): GpuOpPlan {
  const { node } = args;
  const g = q4Geometry(args.inputs, node);
  const scales = scaleBinding(args, g);
  if (g.m * g.n === 0) return { kind: 'dispatch', programs: [] };
  const inputs: Binding[] = [
    { name: 'a', type: 'f32', ref: { input: 0 } },
    { name: 'w', type: 'vec4<u32>', ref: { input: 1 } },
    { name: 'scales', type: 'f32', ref: scales.ref },
    ...(g.zeroPoints ? [{ name: 'zp', type: 'u32', ref: { input: 3 } }] : []),
    ...(g.bias ? [{ name: 'bias', type: 'f32', ref: { input: 4 } }] : []),
  ];
  const decls = inputs.map((b, i) => `@group(0) @binding(${i}) var<storage, read> ${b.name}: array<${b.type}>;`);
  decls.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<f32>;`);
  const params = new Params().u32s(g.m, g.n, g.k, g.groups, zeroPointWords(g.groups));
  const code = `${decls.join('\n')}
${paramsDecl(inputs.length + 1, params.length)}
fn zero_point(n: u32, g: u32) -> f32 { ${g.zeroPoints ? 'return f32((zp[n * p_u(4u) + g / 8u] >> (4u * (g % 8u))) & 15u);' : 'return 8.0;'} }
fn load_bias(n: u32) -> f32 { ${g.bias ? 'return bias[n];' : 'return 0.0;'} }
${nodeActivationFn(node)}
${src}`;
  const y = Math.min(g.m, MAX_WORKGROUPS);
  return {
    kind: 'dispatch',
    programs: [{
      code, bindings: [...inputs.map((b) => b.ref), { output: 0 }], uniforms: params.pack(),
      workgroups: [Math.ceil(g.n / WG), y, Math.ceil(g.m / y)],
    }],
    constants: scales.constants,
  };
}
