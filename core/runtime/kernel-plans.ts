import { UnsupportedOpError, type UnsupportedNode } from '../errors.js';
import type { CpuOpPlan, GpuOpPlan, OpDef } from '../../kernels/op.js';
import type { ExecutionPlan } from './plan.js';

const BACKEND_NAMES = { webgpu: 'WebGPU', cpu: 'CPU' } as const;

/**
 * Each runtime node's kernel plan from one backend's face of its op, or UnsupportedOpError naming
 * every node that face cannot run (ops that only ever fold at load have no kernels). WebGPU plans
 * also get the device's WGSL language features, to pick a kernel variant.
 */
export function planKernels(plan: ExecutionPlan, face: 'webgpu', features: ReadonlySet<string>): GpuOpPlan[];
export function planKernels(plan: ExecutionPlan, face: 'cpu'): CpuOpPlan[];
export function planKernels(plan: ExecutionPlan, face: 'webgpu' | 'cpu', features?: ReadonlySet<string>): (GpuOpPlan | CpuOpPlan)[] {
  const unsupported: UnsupportedNode[] = [];
  const opPlans = plan.nodes.map((p): GpuOpPlan | CpuOpPlan => {
    const { node } = p;
    const kernel = p.def[face] as OpDef['webgpu'] | OpDef['cpu'];
    if (!kernel) {
      unsupported.push({ opType: node.opType, domain: node.domain, node: node.name, reason: `no ${BACKEND_NAMES[face]} kernel, and its inputs are not known at load` });
      return { kind: 'alias' };
    }
    return kernel({ node, opset: plan.opset, inputs: p.inputs, outputs: p.outputs, features });
  });
  if (unsupported.length) throw new UnsupportedOpError(unsupported);
  return opPlans;
}
