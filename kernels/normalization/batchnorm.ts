import { ShapeError, UnsupportedOpError } from '../../core/errors.js';
import { attrFloat, attrInt, type Node, type ValueInfo } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { GpuOpArgs, OpDef } from '../op.js';
import { dispatch1d, paramsDecl, Params } from '../wgsl.js';
import batchnormWgsl from './batchnorm.wgsl';

/**
 * BatchNormalization in inference mode, when it stands alone (the planner may fold it into a
 * preceding Conv instead). Scale, B, mean and var must be known at load: they fold into one
 * multiply-add per element. Training mode (and its running-statistics outputs) is not supported.
 */

const PER_THREAD = 4;
const WG = 256;

function check(x: ValueInfo, params: readonly (ValueInfo | undefined)[], node: Node): number {
  if (attrInt(node.attrs, 'training_mode', 0) !== 0 || node.outputs.slice(1).some((o) => o)) {
    throw new UnsupportedOpError([{ opType: 'BatchNormalization', domain: node.domain, node: node.name, reason: 'training mode (running mean/var outputs) is not supported; export the model for inference' }]);
  }
  const C = x.dims[1];
  if (C === undefined) throw new ShapeError(`BatchNormalization needs an input of rank >= 2, got [${x.dims.join(', ')}]`);
  for (const p of params) {
    if (!p || p.dims.length !== 1 || p.dims[0] !== C) throw new ShapeError(`BatchNormalization: scale, B, mean and var must have dims [${C}], got [${p?.dims.join(', ') ?? ''}]`);
  }
  if (x.dtype !== 'float32') throw new ShapeError(`BatchNormalization needs a float input, got ${x.dtype}`);
  return C;
}

/** The per-channel multiply-add [a…, b…] with y = x·a + b. */
function fold(scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Float32Array {
  const C = scale.data.length;
  const ab = new Float32Array(2 * C);
  for (let c = 0; c < C; c++) {
    const a = scale.data[c]! / Math.sqrt(variance.data[c]! + epsilon);
    ab[c] = a;
    ab[C + c] = bias.data[c]! - mean.data[c]! * a;
  }
  return ab;
}

/** What batchnorm.wgsl and batchnorm.c share: the folded [a…, b…] constant and the parameter block. */
function batchNormPlan({ inputs: [x, scale, bias, mean, variance], node }: GpuOpArgs): { total: number; params: Params; constants: Tensor[] } {
  const C = check(x!, [scale, bias, mean, variance], node);
  const ab = fold(scale!.value!, bias!.value!, mean!.value!, variance!.value!, attrFloat(node.attrs, 'epsilon', 1e-5));
  const total = sizeOf(x!.dims);
  return {
    total,
    params: new Params().u32s(total, C, sizeOf(x!.dims.slice(2))),
    constants: [{ dtype: 'float32', dims: [2 * C], data: ab }],
  };
}

export const BatchNormalization: OpDef = {
  constInputs: [1, 2, 3, 4],
  shape([x, ...params], { node }) {
    check(x!, params, node);
    return [{ dtype: 'float32', dims: x!.dims }];
  },
  reference([x, scale, bias, mean, variance], { node }) {
    const C = check(x!, [scale, bias, mean, variance], node);
    const inner = sizeOf(x!.dims.slice(2));
    const eps = attrFloat(node.attrs, 'epsilon', 1e-5);
    const y = new Float32Array(x!.data.length);
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / inner) % C;
      y[i] = ((x!.data[i]! - mean!.data[c]!) / Math.sqrt(variance!.data[c]! + eps)) * scale!.data[c]! + bias!.data[c]!;
    }
    return [{ dtype: 'float32', dims: x!.dims, data: y }];
  },
  webgpu(args) {
    const { total, params, constants } = batchNormPlan(args);
    return {
      kind: 'dispatch',
      constants,
      programs: [{
        code: `${paramsDecl(3, params.length)}\n${batchnormWgsl}`,
        workgroups: dispatch1d(Math.ceil(total / PER_THREAD), WG),
        bindings: [{ input: 0 }, { constant: 0 }, { output: 0 }],
        uniforms: params.pack(),
      }],
    };
  },
  cpu(args) {
    const { params, constants } = batchNormPlan(args);
    return { kind: 'call', constants, calls: [{ fn: 'batch_norm', bindings: [{ input: 0 }, { constant: 0 }, { output: 0 }], uniforms: params.pack() }] };
  },
};
