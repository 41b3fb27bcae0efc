/**
 * When a whole model disagrees with its oracle, the test's message should name the operator to
 * blame, not just the output: every value a top-level node produces becomes a graph output, the
 * model runs on the backend under test and on the reference backend, and the first node (in graph
 * order) whose output is outside tolerance is named with its error. Its inputs came from the same
 * backend, so that node is where the error appeared, though it may only have amplified earlier
 * rounding that stayed within tolerance.
 */
import type { Model } from '../../core/ir/graph.js';
import { Session, type Backend } from '../../core/session.js';
import type { Tensor } from '../../core/tensor.js';
import { compareTensors, fmt } from './compare.js';

export async function firstDivergentNode(
  model: Model,
  feeds: Readonly<Record<string, Tensor>>,
  backend: Exclude<Backend, 'auto' | 'reference'>,
  device?: GPUDevice,
): Promise<string> {
  const graphOutputs = new Set(model.graph.outputs.map((o) => o.name));
  const exposed = model.graph.nodes.flatMap((n) => n.outputs.filter((o) => o && !graphOutputs.has(o) && !model.graph.initializers.has(o)));
  const everyValue: Model = {
    ...model,
    graph: { ...model.graph, outputs: [...model.graph.outputs, ...exposed.map((name) => ({ name, dtype: 'float32' as const, dims: [] }))] },
  };
  const inputDims = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims]));
  const sessions: Session[] = [];
  try {
    const tested = await Session.load(everyValue, { backend, device, inputDims });
    sessions.push(tested);
    const reference = await Session.load(everyValue, { backend: 'reference', inputDims });
    sessions.push(reference);
    const [got, want] = await Promise.all([tested.run(feeds), reference.run(feeds)]);
    for (const node of model.graph.nodes) {
      for (const out of node.outputs) {
        if (!out || !want[out]) continue;
        if (!got[out]) return `${node.opType} node "${node.name}": output "${out}" missing on ${backend}`;
        const c = compareTensors(got[out]!, want[out]!);
        if (!c.ok) return `${node.opType} node "${node.name}", output "${out}" [${want[out]!.dims.join(',')}]: ${c.problem} (max abs ${fmt(c.abs)}, max rel ${fmt(c.rel)} vs the reference backend)`;
      }
    }
    return `no single node differs from the reference backend when every value is an output (a fused or aliased path, or the oracle and the reference disagree)`;
  } catch (e) {
    return `localizing failed: ${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    for (const s of sessions) s.dispose();
  }
}
