import type { BindingRef, GpuProgram } from '../op.js';
import { paramsDecl, Params, storageDecl } from '../wgsl.js';
import src from './gemm.wgsl';

/** One batch axis of a GEMM: its size and the element stride it adds to each operand's offset. */
export interface BatchDim {
  readonly dim: number;
  readonly a: number;
  readonly b: number;
  readonly out: number;
  readonly bias: number;
}

/** A strided GEMM problem; the matmul ops (and any op that reduces to one) describe themselves as this. */
export interface GemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: { readonly ref: BindingRef; readonly sm: number; readonly sk: number };
  readonly b: { readonly ref: BindingRef; readonly sk: number; readonly sn: number };
  readonly bias?: { readonly ref: BindingRef; readonly sm: number; readonly sn: number; readonly beta: number };
  readonly out: BindingRef;
  readonly alpha?: number;
  readonly batch: readonly BatchDim[];
  /** WGSL `fn activation(x: f32) -> f32`. */
  readonly activation: string;
}

const TILE = 32;

export function gemmProgram(spec: GemmSpec): GpuProgram {
  const { m, n, k, batch, bias } = spec;
  const params = new Params()
    .u32s(m, n, k, 0, spec.a.sm, spec.a.sk, spec.b.sk, spec.b.sn, bias?.sm ?? 0, bias?.sn ?? 0)
    .f32s(spec.alpha ?? 1, bias?.beta ?? 0);
  for (const d of batch) params.u32s(d.dim, d.a, d.b, d.out, d.bias);
  const bindings: BindingRef[] = [spec.a.ref, spec.b.ref, ...(bias ? [bias.ref] : []), spec.out];
  const code = `${storageDecl('a', 0)}
${storageDecl('b', 1)}
${bias ? storageDecl('c', 2) : ''}
${storageDecl('out', bindings.length - 1, 'f32', 'read_write')}
${paramsDecl(bindings.length, params.length)}
const BATCH_RANK: u32 = ${batch.length}u;
fn load_bias(off: u32, m: u32, n: u32) -> f32 { ${bias ? 'return p_f(11u) * c[off + m * p_u(8u) + n * p_u(9u)];' : 'return 0.0;'} }
${spec.activation}
${src}`;
  const batches = batch.reduce((s, d) => s * d.dim, 1);
  return { code, workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), batches], bindings, uniforms: params.pack() };
}
