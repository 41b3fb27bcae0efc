import type { Tensor } from '../../core/tensor.js';
import type { GpuOpArgs, GpuProgram, OpDef } from '../op.js';

/**
 * Every layout kernel has a C twin beside its WGSL (strided.c, resize.c) taking the same bindings
 * and the same uniform words, so an op plans once and both faces come from that one plan: each
 * program becomes one call of its twin. The WGSL bakes a few choices into its text (rank, edge
 * rule, element type); the planners write what the C needs of those into uniform words the WGSL
 * does not read.
 */

export interface LayoutProgram extends GpuProgram {
  /** Exported name of the C twin. */
  readonly cpuFn: string;
  /** Bytes of a temporary the C twin takes after the WGSL's bindings (resize's row cache). */
  readonly cpuScratch?: number;
}

export type LayoutPlan =
  | { readonly kind: 'alias' }
  | { readonly kind: 'dispatch'; readonly programs: readonly LayoutProgram[]; readonly constants?: readonly Tensor[] };

export function twinFaces(plan: (args: GpuOpArgs) => LayoutPlan): Required<Pick<OpDef, 'webgpu' | 'cpu'>> {
  return {
    webgpu: plan,
    cpu(args) {
      const p = plan(args);
      if (p.kind === 'alias') return p;
      const scratch: number[] = [];
      const calls = p.programs.map(({ cpuFn, bindings, uniforms, cpuScratch }) => {
        if (cpuScratch === undefined) return { fn: cpuFn, bindings, uniforms };
        scratch.push(cpuScratch);
        return { fn: cpuFn, bindings: [...bindings, { scratch: scratch.length - 1 }], uniforms };
      });
      return { kind: 'call', calls, constants: p.constants, scratch };
    },
  };
}
