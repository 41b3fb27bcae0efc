import { attrFloat, attrInt } from '../ir/graph.js';
import { sizeOf, type Tensor } from '../tensor.js';
import type { KnownValue } from '../../kernels/op.js';
import { merged } from './patterns.js';
import type { PlannedNode } from './plan.js';

/**
 * Fusions that fold a consumer's constant parameters into its producer, leaving one node:
 * - Conv → BatchNormalization (inference): W' = W·s, B' = (B − mean)·s + beta, s = gamma/√(var+ε).
 * - MatMul → Add of a constant bias along the last axis: the bias becomes MatMul's third input,
 *   added in the GEMM epilogue.
 * New constant tensors travel as the `value` of the fused node's inputs (under fresh names); the
 * planner collects constants from planned inputs, so the executors find them.
 */

type Combine = (consumer: PlannedNode, producer: PlannedNode) => PlannedNode | undefined;

/** Replaces each (producer, sole consumer) pair that `combine` accepts with what it returns. */
function fuseIntoProducer(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>, combine: Combine): PlannedNode[] {
  const readCount = new Map<string, number>();
  for (const p of nodes) for (const name of p.node.inputs) if (name) readCount.set(name, (readCount.get(name) ?? 0) + 1);
  const producer = new Map<string, number>();
  nodes.forEach((p, i) => p.node.outputs.forEach((o) => producer.set(o, i)));
  const out: (PlannedNode | undefined)[] = [...nodes];
  nodes.forEach((p, i) => {
    const src = p.node.inputs.find((name) => name && producer.has(name) && readCount.get(name) === 1 && !graphOutputs.has(name));
    const hostIndex = src === undefined ? undefined : producer.get(src);
    const host = hostIndex === undefined ? undefined : out[hostIndex];
    if (!host || host.node.outputs.length !== 1) return;
    const fused = combine(p, host);
    if (!fused) return;
    out[hostIndex!] = fused;
    out[i] = undefined;
  });
  return out.filter((p): p is PlannedNode => p !== undefined);
}

const known = (t: Tensor): KnownValue => ({ dtype: t.dtype, dims: t.dims, value: t });

const foldBatchNorm: Combine = (bn, conv) => {
  if (bn.node.opType !== 'BatchNormalization' || conv.node.opType !== 'Conv') return undefined;
  if (attrInt(bn.node.attrs, 'training_mode', 0) !== 0 || bn.node.outputs.slice(1).some(Boolean)) return undefined;
  if (bn.node.inputs[0] !== conv.node.outputs[0]) return undefined;
  const [gamma, beta, mean, variance] = bn.inputs.slice(1, 5).map((v) => v?.value);
  const w = conv.inputs[1]?.value;
  const b = conv.inputs[2]?.value;
  if (!gamma || !beta || !mean || !variance || !w || (conv.node.inputs[2] && !b)) return undefined;
  const eps = attrFloat(bn.node.attrs, 'epsilon', 1e-5);
  const cOut = w.dims[0]!;
  const perChannel = sizeOf(w.dims) / cOut;
  const wData = new Float32Array(w.data.length);
  const bData = new Float32Array(cOut);
  for (let c = 0; c < cOut; c++) {
    const s = gamma.data[c]! / Math.sqrt(variance.data[c]! + eps);
    for (let k = 0; k < perChannel; k++) wData[c * perChannel + k] = w.data[c * perChannel + k]! * s;
    bData[c] = ((b ? b.data[c]! : 0) - mean.data[c]!) * s + beta.data[c]!;
  }
  const out = bn.node.outputs[0]!;
  const wT: Tensor = { dtype: 'float32', dims: w.dims, data: wData };
  const bT: Tensor = { dtype: 'float32', dims: [cOut], data: bData };
  return merged(conv, bn, [conv.node.inputs[0]!, `${out}/folded_weight`, `${out}/folded_bias`], [conv.inputs[0], known(wT), known(bT)]);
};

const foldMatMulBias: Combine = (add, matmul) => {
  if (add.node.opType !== 'Add' || matmul.node.opType !== 'MatMul' || matmul.node.inputs.length > 2) return undefined;
  const side = add.node.inputs[0] === matmul.node.outputs[0] ? 1 : 0;
  const bias = add.inputs[side];
  const outDims = matmul.outputs[0]!.dims;
  const n = outDims[outDims.length - 1];
  if (!bias?.value || (matmul.inputs[1]?.dims.length ?? 0) < 2 || bias.dims.length > outDims.length) return undefined;
  if (bias.dims[bias.dims.length - 1] !== n || sizeOf(bias.dims) !== n || add.outputs[0]!.dtype !== 'float32') return undefined;
  return merged(matmul, add, [...matmul.node.inputs, add.node.inputs[side]!], [...matmul.inputs, bias]);
};

export function foldConstantEpilogues(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  return fuseIntoProducer(fuseIntoProducer(nodes, graphOutputs, foldBatchNorm), graphOutputs, foldMatMulBias);
}
