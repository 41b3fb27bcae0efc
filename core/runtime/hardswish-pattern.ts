import type { Node } from '../ir/graph.js';
import { opRegistry } from '../../kernels/registry.js';
import type { PlannedNode } from './plan.js';
import { PatternIndex, scalarInput } from './patterns.js';

/**
 * Exporters that predate ONNX's HardSwish (Paddle2ONNX, older tf2onnx) spell it out as
 * Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6): four kernels and three intermediates per activation,
 * eighteen times in PP-OCR's classifier. This pass puts a HardSwish node back, which the
 * activation pass then fuses into the producing Conv/Gemm's epilogue.
 */

function clipBounds(p: PlannedNode): [number, number] | undefined {
  if (p.node.inputs.length > 1) {
    const lo = p.node.inputs[1] ? scalarInput(p, 1) : -Infinity;
    const hi = p.node.inputs[2] ? scalarInput(p, 2) : Infinity;
    return lo === undefined || hi === undefined ? undefined : [lo, hi];
  }
  const { min, max } = p.node.attrs;
  return [typeof min === 'number' ? min : -Infinity, typeof max === 'number' ? max : Infinity];
}

export function recognizeHardSwish(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  const index = new PatternIndex(nodes, graphOutputs);
  for (const div of nodes) {
    if (div.node.opType !== 'Div' || scalarInput(div, 1) !== 6 || div.outputs[0]!.dtype !== 'float32') continue;
    const mul = index.producedBy(div.node.inputs[0], 'Mul');
    if (!mul) continue;
    const clipAt = mul.node.inputs.findIndex((name) => index.producedBy(name, 'Clip'));
    if (clipAt < 0) continue;
    const x = mul.node.inputs[1 - clipAt]!;
    const clip = index.producedBy(mul.node.inputs[clipAt], 'Clip')!;
    const bounds = clipBounds(clip);
    if (!bounds || bounds[0] !== 0 || bounds[1] !== 6) continue;
    const add = index.producedBy(clip.node.inputs[0], 'Add');
    if (!add || add.node.inputs[0] !== x || scalarInput(add, 1) !== 3) continue;
    const xInfo = mul.inputs[1 - clipAt]!;
    if (xInfo.dims.join() !== div.outputs[0]!.dims.join()) continue;
    const node: Node = { name: `${div.node.name}:HardSwish`, opType: 'HardSwish', domain: '', inputs: [x], outputs: div.node.outputs, attrs: {} };
    index.replace([add, clip, mul], div, { node, def: opRegistry.HardSwish!, inputs: [xInfo], outputs: div.outputs });
  }
  return index.nodes();
}
