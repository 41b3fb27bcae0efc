import type { Node } from '../ir/graph.js';
import type { Activation } from '../../kernels/wgsl.js';
import { isOnnxDomain, TESSERA_DOMAIN } from '../ir/domains.js';
import { foldConstantEpilogues } from './fold-batchnorm.js';
import { fuseResidualAdds } from './fuse-residual.js';
import { recognizeHardSwish } from './hardswish-pattern.js';
import { recognizeLayerNorm } from './layernorm-pattern.js';
import type { PlannedNode } from './plan.js';

/**
 * Fusion passes over the planned node list. Each pass rewrites a producer/consumer pair into one
 * node when the intermediate value has a single reader and is not a graph output, so nothing else
 * can observe that it vanished.
 */

/** Ops whose kernels apply `attrs._activation` in their epilogue. */
const EPILOGUE_HOSTS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
/** Every com.tessera op is a matrix product or conv with the same fused epilogue. */
const TESSERA_HOSTS = new Set(['QMatMul', 'QConv', 'Q4MatMul', 'Q4Conv', 'SparseQMatMul', 'BlockSparseMatMul']);

/** By domain as well as type: an ONNX node that happens to be called QMatMul is no host. */
const isEpilogueHost = ({ domain, opType }: Node): boolean =>
  isOnnxDomain(domain) ? EPILOGUE_HOSTS.has(opType) : domain === TESSERA_DOMAIN && TESSERA_HOSTS.has(opType);

function activationOf(p: PlannedNode): Activation | undefined {
  const { opType, attrs } = p.node;
  const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
  switch (opType) {
    case 'Relu':
    case 'Sigmoid':
    case 'HardSwish':
    case 'Tanh':
      return { kind: opType };
    case 'LeakyRelu':
      return { kind: opType, alpha: num(attrs.alpha, 0.01) };
    case 'HardSigmoid':
      return { kind: opType, alpha: num(attrs.alpha, 0.2), beta: num(attrs.beta, 0.5) };
    case 'Gelu':
      return attrs.approximate === 'tanh' ? undefined : { kind: 'Gelu' };
    case 'Clip': {
      // opset < 11 keeps bounds in attributes; later ones in (optional) constant inputs.
      const bound = (i: number, attr: string, d: number): number | undefined => {
        if (p.node.inputs.length > i && p.node.inputs[i]) {
          const v = p.inputs[i]?.value;
          return v ? v.data[0]! : undefined;
        }
        return num(attrs[attr], d);
      };
      const lo = bound(1, 'min', -Infinity);
      const hi = bound(2, 'max', Infinity);
      return lo === undefined || hi === undefined ? undefined : { kind: 'Clip', alpha: lo, beta: hi };
    }
    default:
      return undefined;
  }
}

function readers(nodes: readonly PlannedNode[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const p of nodes) for (const name of p.node.inputs) if (name) count.set(name, (count.get(name) ?? 0) + 1);
  return count;
}

function fuseActivations(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  const readCount = readers(nodes);
  const producer = new Map<string, number>();
  const out: (PlannedNode | undefined)[] = [...nodes];
  out.forEach((p, i) => p!.node.outputs.forEach((o) => producer.set(o, i)));
  nodes.forEach((p, i) => {
    const act = activationOf(p);
    const src = p.node.inputs[0];
    if (!act || !src) return;
    const hostIndex = producer.get(src);
    const host = hostIndex === undefined ? undefined : out[hostIndex];
    if (!host || !isEpilogueHost(host.node) || host.node.attrs._activation) return;
    if (readCount.get(src) !== 1 || graphOutputs.has(src) || p.outputs[0]!.dtype !== 'float32') return;
    const node: Node = {
      ...host.node,
      name: `${host.node.name}+${p.node.name}`,
      outputs: [p.node.outputs[0]!],
      attrs: { ...host.node.attrs, _activation: act.kind, _alpha: act.alpha ?? 0, _beta: act.beta ?? 0 },
    };
    out[hostIndex!] = { ...host, node, outputs: [p.outputs[0]!] };
    out[i] = undefined;
  });
  return out.filter((p): p is PlannedNode => p !== undefined);
}

/** Reads back the fused activation a host node carries, for its kernel's epilogue. */
export function fusedActivation(node: Node): Activation | undefined {
  const kind = node.attrs._activation;
  if (typeof kind !== 'string') return undefined;
  return { kind: kind as Activation['kind'], alpha: node.attrs._alpha as number, beta: node.attrs._beta as number };
}

export type FusionPass = (nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>) => PlannedNode[];

/** Residual Adds fuse before activations, so Conv → Add → Relu folds whole: act(conv + bias + skip). */
const PASSES: FusionPass[] = [recognizeHardSwish, recognizeLayerNorm, foldConstantEpilogues, fuseResidualAdds, fuseActivations];

export function fuse(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  return PASSES.reduce((acc, pass) => pass(acc, graphOutputs), [...nodes]);
}
