import type { Node } from '../../core/ir/graph.js';
import { fusedActivation } from '../../core/runtime/fuse.js';
import { erf } from '../elementwise/scalar-ops.js';
import { activationFn, type Activation } from '../wgsl.js';

/**
 * The fused epilogue shared by the matmul and conv families: the reference side applies the same
 * activation the WGSL `activation()` does, so a fused plan stays checkable against the reference.
 */

export function activate(act: Activation | undefined, x: number): number {
  if (!act) return x;
  const { alpha, beta } = act;
  switch (act.kind) {
    case 'Relu': return Math.max(x, 0);
    case 'LeakyRelu': return x >= 0 ? x : (alpha ?? 0.01) * x;
    case 'Clip': return Math.min(Math.max(x, alpha ?? -Infinity), beta ?? Infinity);
    case 'Sigmoid': return 1 / (1 + Math.exp(-x));
    case 'HardSigmoid': return Math.min(Math.max((alpha ?? 0.2) * x + (beta ?? 0.5), 0), 1);
    case 'HardSwish': return x * Math.min(Math.max(x / 6 + 0.5, 0), 1);
    case 'Tanh': return Math.tanh(x);
    case 'Gelu': return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
  }
}

/** Applies the node's fused activation to a freshly computed reference output, in place. */
export function activateAll(node: Node, data: Float32Array): void {
  const act = fusedActivation(node);
  if (act) for (let i = 0; i < data.length; i++) data[i] = activate(act, data[i]!);
}

/** WGSL `fn activation` for the node's fused activation (identity when none). */
export function nodeActivationFn(node: Node): string {
  return activationFn(fusedActivation(node));
}
