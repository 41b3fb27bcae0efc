import { ShapeError } from '../../core/errors.js';
import { attrFloat, attrInt, type Attrs, type ValueInfo } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { BindingRef, CpuOpPlan, GpuOpPlan, OpDef } from '../op.js';
import { lanesFor, ROW_PRELUDE, rowWorkgroups, segmentReduceFn } from '../shared/segment-reduce.js';
import { paramsDecl, Params, storageDecl } from '../wgsl.js';
import layernormWgsl from './layernorm.wgsl';

/**
 * LayerNormalization and InstanceNormalization: both normalise contiguous rows and differ only in
 * what a row is and which scale/bias element each output element takes (see layernorm.wgsl).
 */

/** Which element of a per-row parameter (scale or bias) element d of row r takes: (r % rowMod) + (d % elemMod). */
interface ParamIndex {
  readonly rowMod: number;
  readonly elemMod: number;
}

interface RowNorm {
  readonly rows: number;
  readonly D: number;
  readonly epsilon: number;
  readonly scale: ParamIndex;
  readonly bias?: ParamIndex;
  /** dims of the Mean / InvStdDev outputs (LayerNormalization only). */
  readonly statsDims?: readonly number[];
}

const paramAt = (p: ParamIndex, row: number, d: number): number => (row % p.rowMod) + (d % p.elemMod);

function rowNormReference(x: Tensor, scale: Tensor, bias: Tensor | undefined, n: RowNorm): Tensor[] {
  const y = new Float32Array(x.data.length);
  const means = new Float32Array(n.rows);
  const rstds = new Float32Array(n.rows);
  for (let r = 0; r < n.rows; r++) {
    const at = (d: number): number => x.data[r * n.D + d]!;
    let s = 0;
    for (let d = 0; d < n.D; d++) s += at(d);
    const mean = s / n.D;
    let q = 0;
    for (let d = 0; d < n.D; d++) q += (at(d) - mean) ** 2;
    const rstd = 1 / Math.sqrt(q / n.D + n.epsilon);
    for (let d = 0; d < n.D; d++) {
      const b = bias && n.bias ? bias.data[paramAt(n.bias, r, d)]! : 0;
      y[r * n.D + d] = (at(d) - mean) * rstd * scale.data[paramAt(n.scale, r, d)]! + b;
    }
    means[r] = mean;
    rstds[r] = rstd;
  }
  const out: Tensor[] = [{ dtype: 'float32', dims: x.dims, data: y }];
  if (n.statsDims) out.push({ dtype: 'float32', dims: n.statsDims, data: means }, { dtype: 'float32', dims: n.statsDims, data: rstds });
  return out;
}

/** The parameter block of layernorm.wgsl and layernorm.c (which alone reads the flags word). */
function rowNormParams(n: RowNorm, hasBias: boolean, statsOutputs: readonly number[]): { lanes: number; params: Params } {
  const lanes = lanesFor(n.D, n.rows);
  const bias = n.bias ?? { rowMod: 1, elemMod: 1 };
  const flags = (hasBias ? 1 : 0) | (statsOutputs.includes(1) ? 2 : 0) | (statsOutputs.includes(2) ? 4 : 0);
  return { lanes, params: new Params().u32s(n.rows, n.D, lanes).f32s(n.epsilon).u32s(n.scale.rowMod, n.scale.elemMod, bias.rowMod, bias.elemMod, flags) };
}

/**
 * One call of layernorm.c. Its signature is fixed (x, scale, bias, y, Mean, InvStdDev): an absent
 * bias or statistics output is bound to a tensor that is there (scale, y), which the kernel leaves
 * alone because the flags say so.
 */
function rowNormCall(n: RowNorm, hasBias: boolean, statsOutputs: readonly number[]): CpuOpPlan {
  const { params } = rowNormParams(n, hasBias, statsOutputs);
  const bindings: BindingRef[] = [
    { input: 0 },
    { input: 1 },
    { input: hasBias ? 2 : 1 },
    { output: 0 },
    { output: statsOutputs.includes(1) ? 1 : 0 },
    { output: statsOutputs.includes(2) ? 2 : 0 },
  ];
  return { kind: 'call', calls: [{ fn: 'row_norm', bindings, uniforms: params.pack() }] };
}

/** One dispatch of layernorm.wgsl. Bindings: x, scale, [bias], y, [Mean], [InvStdDev]. */
function rowNormPlan(n: RowNorm, hasBias: boolean, statsOutputs: readonly number[]): GpuOpPlan {
  const { lanes, params } = rowNormParams(n, hasBias, statsOutputs);
  const buffers: { ref: BindingRef; name: string }[] = [{ ref: { input: 0 }, name: 'x' }, { ref: { input: 1 }, name: 'scale' }];
  if (hasBias) buffers.push({ ref: { input: 2 }, name: 'bias' });
  buffers.push({ ref: { output: 0 }, name: 'y' });
  for (const o of statsOutputs) buffers.push({ ref: { output: o }, name: o === 1 ? 'mean_out' : 'rstd_out' });
  const decls = buffers
    .map((b, i) => storageDecl(b.name, i, 'f32', 'output' in b.ref ? 'read_write' : 'read'))
    .join('\n');
  const writes = statsOutputs.map((o) => (o === 1 ? 'mean_out[row] = mean;' : 'rstd_out[row] = rstd;')).join(' ');
  const code = `${decls}
fn bias_at(i: u32) -> f32 { return ${hasBias ? 'bias[i]' : '0.0'}; }
fn write_stats(row: u32, mean: f32, rstd: f32) { ${writes} }
${paramsDecl(buffers.length, params.length)}
${ROW_PRELUDE}
${segmentReduceFn('segment_sum', 'f32', (a, b) => `${a} + ${b}`, lanes)}
${layernormWgsl}`;
  return {
    kind: 'dispatch',
    programs: [{
      code,
      workgroups: rowWorkgroups(n.rows, lanes),
      bindings: buffers.map((b) => b.ref),
      uniforms: params.pack(),
    }],
  };
}

function checkFloat(opType: string, values: readonly (ValueInfo | undefined)[]): void {
  for (const v of values) if (v && v.dtype !== 'float32') throw new ShapeError(`${opType} needs float inputs, got ${v.dtype}`);
}

/**
 * LayerNormalization: rows are the axes from `axis` (default −1) on. Scale and bias may broadcast:
 * after dropping leading 1s their dims must be trailing dims of the normalised shape, so element d
 * of a row takes element d % size.
 */
function layerNorm(x: ValueInfo, scale: ValueInfo, bias: ValueInfo | undefined, attrs: Attrs): RowNorm {
  const rank = x.dims.length;
  const axis = attrInt(attrs, 'axis', -1);
  if (axis < -rank || axis >= rank) throw new ShapeError(`LayerNormalization: axis ${axis} is out of range for rank ${rank}`);
  const a = axis < 0 ? axis + rank : axis;
  const normalized = x.dims.slice(a);
  const index = (p: ValueInfo, what: string): ParamIndex => {
    const first = p.dims.findIndex((d) => d !== 1);
    const dims = first < 0 ? [] : p.dims.slice(first);
    const suffix = normalized.slice(normalized.length - dims.length);
    if (dims.length > normalized.length || dims.some((d, i) => d !== suffix[i])) {
      throw new ShapeError(`LayerNormalization: ${what} dims [${p.dims.join(', ')}] do not broadcast over the normalised dims [${normalized.join(', ')}] as trailing dims`);
    }
    return { rowMod: 1, elemMod: sizeOf(dims) };
  };
  return {
    rows: sizeOf(x.dims.slice(0, a)),
    D: sizeOf(normalized),
    epsilon: attrFloat(attrs, 'epsilon', 1e-5),
    scale: index(scale, 'scale'),
    bias: bias ? index(bias, 'bias') : undefined,
    statsDims: x.dims.map((d, i) => (i < a ? d : 1)),
  };
}

/** InstanceNormalization: a row is the spatial extent of one (n, c); scale and bias are per channel. */
function instanceNorm(x: ValueInfo, scale: ValueInfo, bias: ValueInfo | undefined, attrs: Attrs): RowNorm {
  const [N, C] = x.dims;
  if (N === undefined || C === undefined) throw new ShapeError(`InstanceNormalization needs an input of rank >= 2, got [${x.dims.join(', ')}]`);
  for (const [p, what] of [[scale, 'scale'], [bias, 'B']] as const) {
    if (!p || sizeOf(p.dims) !== C || p.dims.length !== 1) throw new ShapeError(`InstanceNormalization: ${what} must have dims [${C}], got [${p?.dims.join(', ') ?? ''}]`);
  }
  const perChannel = { rowMod: C, elemMod: 1 };
  return { rows: N * C, D: sizeOf(x.dims.slice(2)), epsilon: attrFloat(attrs, 'epsilon', 1e-5), scale: perChannel, bias: perChannel };
}

function rowNormOp(opType: string, describe: typeof layerNorm, maxOutputs: number): OpDef {
  const spec = (inputs: readonly (ValueInfo | undefined)[], attrs: Attrs): RowNorm => {
    const [x, scale, bias] = inputs;
    if (!x || !scale) throw new ShapeError(`${opType} needs X and scale inputs`);
    checkFloat(opType, inputs);
    return describe(x, scale, bias, attrs);
  };
  return {
    shape(inputs, { node }) {
      const n = spec(inputs, node.attrs);
      const x = inputs[0]!;
      const stats = n.statsDims ?? x.dims;
      const outputs: ValueInfo[] = [{ dtype: 'float32', dims: x.dims }, { dtype: 'float32', dims: stats }, { dtype: 'float32', dims: stats }];
      return outputs.slice(0, maxOutputs);
    },
    reference(inputs, { node }) {
      return rowNormReference(inputs[0]!, inputs[1]!, inputs[2], spec(inputs, node.attrs));
    },
    webgpu({ inputs, node }) {
      const stats = [1, 2].filter((o) => o < maxOutputs && !!node.outputs[o]);
      return rowNormPlan(spec(inputs, node.attrs), !!inputs[2], stats);
    },
    cpu({ inputs, node }) {
      const stats = [1, 2].filter((o) => o < maxOutputs && !!node.outputs[o]);
      return rowNormCall(spec(inputs, node.attrs), !!inputs[2], stats);
    },
  };
}

export const rowNormOps: Record<string, OpDef> = {
  LayerNormalization: rowNormOp('LayerNormalization', layerNorm, 3),
  InstanceNormalization: rowNormOp('InstanceNormalization', instanceNorm, 1),
};
