import { ShapeError } from '../../core/errors.js';
import type { Attrs } from '../../core/ir/graph.js';
import { allocData, sizeOf, type Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { lanesFor, ROW_PRELUDE, rowWorkgroups, segmentReduceFn } from '../shared/segment-reduce.js';
import { NAN_FNS, paramsDecl, Params } from '../wgsl.js';
import softmaxWgsl from './softmax.wgsl';

/**
 * Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
 * each row of the flattened trailing axes is normalised; from opset 13 only along `axis`
 * (default −1). Both are the view [outer, D, inner]: the old form is inner = 1.
 */

interface RowView {
  readonly outer: number;
  readonly D: number;
  readonly inner: number;
}

function rowView(dims: readonly number[], axisAttr: number | undefined, opset: number, opType: string): RowView {
  const rank = dims.length;
  const axis = axisAttr ?? (opset < 13 ? 1 : -1);
  if (axis < -rank || axis >= rank) throw new ShapeError(`${opType}: axis ${axis} is out of range for rank ${rank}`);
  const a = axis < 0 ? axis + rank : axis;
  const outer = sizeOf(dims.slice(0, a));
  if (opset < 13) return { outer, D: sizeOf(dims.slice(a)), inner: 1 };
  return { outer, D: dims[a]!, inner: sizeOf(dims.slice(a + 1)) };
}

/** The parameter block of softmax.wgsl and softmax.c. */
function softmaxParams({ outer, D, inner }: RowView): { rows: number; lanes: number; params: Params } {
  const rows = outer * inner;
  const lanes = lanesFor(D, rows);
  return { rows, lanes, params: new Params().u32s(rows, D, inner, lanes) };
}

function softmaxOp(log: boolean): OpDef {
  const opType = log ? 'LogSoftmax' : 'Softmax';
  // `axis` is read without a fixed default: the default depends on the opset.
  const view = (dims: readonly number[], attrs: Attrs, opset: number): RowView =>
    rowView(dims, typeof attrs.axis === 'number' ? attrs.axis : undefined, opset, opType);
  return {
    shape([x], { node, opset }) {
      if (x!.dtype !== 'float32') throw new ShapeError(`${opType} needs a float input, got ${x!.dtype}`);
      view(x!.dims, node.attrs, opset);
      return [{ dtype: x!.dtype, dims: x!.dims }];
    },
    reference([x], { node, opset }) {
      const { outer, D, inner } = view(x!.dims, node.attrs, opset);
      const out = allocData('float32', x!.data.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const at = (d: number): number => (o * D + d) * inner + i;
          let m = -Infinity;
          for (let d = 0; d < D; d++) m = Math.max(m, x!.data[at(d)]!);
          let s = 0;
          for (let d = 0; d < D; d++) s += Math.exp(x!.data[at(d)]! - m);
          for (let d = 0; d < D; d++) {
            const v = x!.data[at(d)]! - m;
            out[at(d)] = log ? v - Math.log(s) : Math.exp(v) / s;
          }
        }
      }
      return [{ dtype: 'float32', dims: x!.dims, data: out } satisfies Tensor];
    },
    webgpu({ inputs: [x], node, opset }) {
      const { rows, lanes, params } = softmaxParams(view(x!.dims, node.attrs, opset));
      const out = log ? 'return shifted - log(sum);' : 'return exp(shifted) / sum;';
      const code = `${paramsDecl(2, params.length)}
${ROW_PRELUDE}
${NAN_FNS}
${segmentReduceFn('segment_max', 'f32', (a, b) => `max_nan(${a}, ${b})`, lanes)}
${segmentReduceFn('segment_sum', 'f32', (a, b) => `${a} + ${b}`, lanes)}
fn softmax_out(shifted: f32, sum: f32) -> f32 { ${out} }
${softmaxWgsl}`;
      return {
        kind: 'dispatch',
        programs: [{ code, workgroups: rowWorkgroups(rows, lanes), bindings: [{ input: 0 }, { output: 0 }], uniforms: params.pack() }],
      };
    },
    cpu({ inputs: [x], node, opset }) {
      const { params } = softmaxParams(view(x!.dims, node.attrs, opset));
      return { kind: 'call', calls: [{ fn: log ? 'log_softmax' : 'softmax', bindings: [{ input: 0 }, { output: 0 }], uniforms: params.pack() }] };
    },
  };
}

export const softmaxOps: Record<string, OpDef> = { Softmax: softmaxOp(false), LogSoftmax: softmaxOp(true) };
