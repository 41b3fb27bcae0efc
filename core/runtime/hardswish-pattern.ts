import type { Node } from '../ir/graph.js';
import { opRegistry } from '../../kernels/registry.js';
import type { PlannedNode } from './plan.js';

/**
 * Exporters that predate ONNX's HardSwish (Paddle2ONNX, older tf2onnx) spell it out as
 * Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6): four kernels and three intermediates per activation,
 * eighteen times in PP-OCR's classifier. This pass puts a HardSwish node back, which the
 * activation pass then fuses into the producing Conv/Gemm's epilogue.
 */

function scalar(p: PlannedNode, input: number): number | undefined {
  const v = p.inputs[input]?.value;
  return v && v.data.length === 1 ? Number(v.data[0]) : undefined;
}

function clipBounds(p: PlannedNode): [number, number] | undefined {
  if (p.node.inputs.length > 1) {
    const lo = p.node.inputs[1] ? scalar(p, 1) : -Infinity;
    const hi = p.node.inputs[2] ? scalar(p, 2) : Infinity;
    return lo === undefined || hi === undefined ? undefined : [lo, hi];
  }
  const { min, max } = p.node.attrs;
  return [typeof min === 'number' ? min : -Infinity, typeof max === 'number' ? max : Infinity];
}

export function recognizeHardSwish(nodes: readonly PlannedNode[], graphOutputs: ReadonlySet<string>): PlannedNode[] {
  const readCount = new Map<string, number>();
  for (const p of nodes) for (const name of p.node.inputs) if (name) readCount.set(name, (readCount.get(name) ?? 0) + 1);
  const producer = new Map<string, number>();
  nodes.forEach((p, i) => p.node.outputs.forEach((o) => producer.set(o, i)));
  const out: (PlannedNode | undefined)[] = [...nodes];
  // An intermediate may vanish only if the pattern is its one reader and nobody else can see it.
  const private1 = (name: string | undefined, opType: string): PlannedNode | undefined => {
    const i = name === undefined ? undefined : producer.get(name);
    const p = i === undefined ? undefined : out[i];
    return p && p.node.opType === opType && readCount.get(name!) === 1 && !graphOutputs.has(name!) ? p : undefined;
  };
  nodes.forEach((div, i) => {
    if (div.node.opType !== 'Div' || scalar(div, 1) !== 6 || div.outputs[0]!.dtype !== 'float32') return;
    const mul = private1(div.node.inputs[0], 'Mul');
    if (!mul) return;
    const clipAt = mul.node.inputs.findIndex((name) => private1(name, 'Clip'));
    if (clipAt < 0) return;
    const x = mul.node.inputs[1 - clipAt]!;
    const clip = private1(mul.node.inputs[clipAt], 'Clip')!;
    const bounds = clipBounds(clip);
    if (!bounds || bounds[0] !== 0 || bounds[1] !== 6) return;
    const add = private1(clip.node.inputs[0], 'Add');
    if (!add || add.node.inputs[0] !== x || scalar(add, 1) !== 3) return;
    const xInfo = mul.inputs[1 - clipAt]!;
    if (xInfo.dims.join() !== div.outputs[0]!.dims.join()) return;
    const node: Node = { name: `${div.node.name}:HardSwish`, opType: 'HardSwish', domain: '', inputs: [x], outputs: div.node.outputs, attrs: {} };
    for (const p of [add, clip, mul]) out[out.indexOf(p)] = undefined;
    out[i] = { node, def: opRegistry.HardSwish!, inputs: [xInfo], outputs: div.outputs };
  });
  return out.filter((p): p is PlannedNode => p !== undefined);
}
