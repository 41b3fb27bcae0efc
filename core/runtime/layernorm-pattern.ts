import { ShapeError } from '../errors.js';
import { attrInt, attrInts, type Node } from '../ir/graph.js';
import { opRegistry } from '../../kernels/registry.js';
import type { PlannedNode } from './plan.js';
import { PatternIndex, scalarInput } from './patterns.js';

/**
 * Exporters before opset 17 (PyTorch's LayerNorm, the openWakeWord heads) write LayerNormalization
 * as nine primitives:
 *   d = x − ReduceMean(x);  y = d / Sqrt(ReduceMean(Pow(d, 2)) + eps) · gamma + beta
 * over the trailing axes. Nine kernels and eight intermediates per norm become one
 * LayerNormalization node, which both backends run as a single row kernel.
 */

/** The axes a ReduceMean keeps as size 1, if they are exactly the trailing ones: their first. */
function trailingAxis(p: PlannedNode): number | undefined {
  if (attrInt(p.node.attrs, 'keepdims', 1) !== 1) return undefined;
  const rank = p.inputs[0]!.dims.length;
  const listed = p.node.inputs[1] ? Array.from(p.inputs[1]?.value?.data ?? [NaN]) : attrInts(p.node.attrs, 'axes') ?? [];
  const axes = listed.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== rank - axes.length + i)) return undefined;
  return axes[0];
}

export function recognizeLayerNorm(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  const index = new PatternIndex(nodes, graphOutputs);
  const def = opRegistry.LayerNormalization!;
  for (const addBeta of nodes) {
    if (addBeta.node.opType !== 'Add' || addBeta.outputs[0]!.dtype !== 'float32') continue;
    const mulAt = addBeta.node.inputs.findIndex((name) => index.producedBy(name, 'Mul'));
    const beta = addBeta.inputs[1 - mulAt];
    if (mulAt < 0 || !beta?.value) continue;
    const mul = index.producedBy(addBeta.node.inputs[mulAt], 'Mul')!;
    const divAt = mul.node.inputs.findIndex((name) => index.producedBy(name, 'Div'));
    const gamma = mul.inputs[1 - divAt];
    if (divAt < 0 || !gamma?.value) continue;
    const div = index.producedBy(mul.node.inputs[divAt], 'Div')!;
    const sqrt = index.producedBy(div.node.inputs[1], 'Sqrt');
    const addEps = index.producedBy(sqrt?.node.inputs[0], 'Add');
    const epsilon = addEps && scalarInput(addEps, 1);
    const meanSq = index.producedBy(addEps?.node.inputs[0], 'ReduceMean');
    const pow = index.producedBy(meanSq?.node.inputs[0], 'Pow');
    if (epsilon === undefined || !pow || scalarInput(pow, 1) !== 2) continue;
    const d = div.node.inputs[0]!;
    // d feeds exactly the Pow and the Div.
    const sub = index.producedBy(d, 'Sub', 2);
    if (!sub || pow.node.inputs[0] !== d) continue;
    const x = sub.node.inputs[0]!;
    const mean = index.producedBy(sub.node.inputs[1], 'ReduceMean');
    if (!mean || mean.node.inputs[0] !== x) continue;
    const axis = trailingAxis(mean);
    if (axis === undefined || trailingAxis(meanSq!) !== axis) continue;
    const xInfo = sub.inputs[0]!;
    const node: Node = {
      name: `${addBeta.node.name}:LayerNormalization`, opType: 'LayerNormalization', domain: '',
      inputs: [x, mul.node.inputs[1 - divAt]!, addBeta.node.inputs[1 - mulAt]!], outputs: addBeta.node.outputs, attrs: { axis, epsilon },
    };
    const inputs = [xInfo, gamma, beta];
    try {
      const [out] = def.shape(inputs, { node, opset: 17 });
      if (out!.dims.join() !== addBeta.outputs[0]!.dims.join()) continue;
    } catch (e) {
      // gamma or beta that do not broadcast as LayerNormalization's trailing dims: leave it spelled out.
      if (e instanceof ShapeError) continue;
      throw e;
    }
    index.replace([mean, sub, pow, meanSq!, addEps!, sqrt!, div, mul], addBeta, { node, def, inputs, outputs: addBeta.outputs });
  }
  return index.nodes();
}
