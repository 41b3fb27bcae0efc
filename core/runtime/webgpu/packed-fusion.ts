import { PACK_OUT_ATTR, PACKED_IN_ATTR } from '../../../kernels/quant/qconv.js';
import { TESSERA_DOMAIN } from '../../ir/domains.js';
import { attrFloat, attrInt } from '../../ir/graph.js';
import { guardKey, PatternIndex } from '../patterns.js';
import type { ExecutionPlan, PlannedNode } from '../plan.js';

const isQConv = (p: PlannedNode): boolean => p.node.opType === 'QConv' && p.node.domain === TESSERA_DOMAIN;

/**
 * WebGPU only: a QConv whose output only another QConv reads, that reader with a static activation
 * scale, stores that output already quantized with the reader's scale as int8 words (4 channels a
 * word, pixel-major), and the reader gathers its patch rows from the words instead of quantizing
 * floats (qgemm-common.wgsl PACK_OUT, im2row-packed.wgsl). The integers are those of the float
 * path bit for bit: the producer quantizes the very floats it would have stored with the reader's
 * own rule and multiplier. Both need channels in whole words: the producer's output channels per
 * group and the reader's input channels per group divisible by 4. The reference and the CPU, which
 * don't know the attributes, keep the float tensor between them.
 */
export function packQConvChains(plan: ExecutionPlan): ExecutionPlan {
  const index = new PatternIndex(plan.nodes, new Set(plan.outputs.map((o) => o.name)));
  // A QConv between two others is marked twice: it reads words and stores them.
  const marked = new Map<PlannedNode, PlannedNode>();
  const mark = (p: PlannedNode, attr: string, value: number): void => {
    const now = marked.get(p) ?? p;
    marked.set(p, { ...now, node: { ...now.node, attrs: { ...now.node.attrs, [attr]: value } } });
  };
  for (const reader of plan.nodes) {
    if (!isQConv(reader)) continue;
    const producer = index.producedBy(reader.node.inputs[0], 'QConv');
    const actScale = attrFloat(reader.node.attrs, 'act_scale', 0);
    if (!producer || !isQConv(producer) || producer.node.outputs.length !== 1 || !(actScale > 0)) continue;
    if (guardKey(producer) !== guardKey(reader)) continue;
    const cin = reader.inputs[0]?.dims[1];
    const cout = producer.outputs[0]?.dims[1];
    const cinG = cin === undefined ? NaN : cin / attrInt(reader.node.attrs, 'group', 1);
    const coutG = cout === undefined ? NaN : cout / attrInt(producer.node.attrs, 'group', 1);
    if (cinG % 4 !== 0 || coutG % 4 !== 0) continue;
    mark(producer, PACK_OUT_ATTR, actScale);
    mark(reader, PACKED_IN_ATTR, 1);
  }
  return { ...plan, nodes: plan.nodes.map((p) => marked.get(p) ?? p) };
}
