import type { Node } from '../ir/graph.js';
import type { KnownValue } from '../../kernels/op.js';
import type { PlannedNode } from './plan.js';

/**
 * What the graph-rewriting passes that recognise an operator spelled out in primitives (HardSwish,
 * LayerNormalization) need: each value's producer, and whether an intermediate is private to the
 * pattern, that is read once and not a graph output, so it may vanish without anyone noticing.
 */
export class PatternIndex {
  private readonly slots: (PlannedNode | undefined)[];
  private readonly producer = new Map<string, number>();
  private readonly readCount = new Map<string, number>();

  constructor(nodes: readonly PlannedNode[], private readonly graphOutputs: ReadonlySet<string>) {
    this.slots = [...nodes];
    nodes.forEach((p, i) => {
      for (const name of p.node.inputs) if (name) this.readCount.set(name, (this.readCount.get(name) ?? 0) + 1);
      p.node.outputs.forEach((o) => this.producer.set(o, i));
    });
  }

  /** Readers of `name` among the nodes, or Infinity when a graph output lets the caller see it too. */
  readers(name: string): number {
    return this.graphOutputs.has(name) ? Infinity : this.readCount.get(name) ?? 0;
  }

  /** The node of type `opType` producing `name`, if `name` is read `readers` times and nowhere else. */
  producedBy(name: string | undefined, opType: string, readers = 1): PlannedNode | undefined {
    const i = name === undefined ? undefined : this.producer.get(name);
    const p = i === undefined ? undefined : this.slots[i];
    return p && p.node.opType === opType && this.readers(name!) === readers ? p : undefined;
  }

  /**
   * Puts `replacement` where `last` stood and drops the rest of the pattern. The replacement runs
   * under the guards of an If branch the pattern lies in; a pattern straddling a branch boundary
   * is left spelled out.
   */
  replace(pattern: readonly PlannedNode[], last: PlannedNode, replacement: PlannedNode): void {
    const guards = guardKey(last);
    if (pattern.some((p) => guardKey(p) !== guards)) return;
    for (const p of pattern) this.slots[this.slots.indexOf(p)] = undefined;
    this.slots[this.slots.indexOf(last)] = last.guards ? { ...replacement, guards: last.guards } : replacement;
  }

  nodes(): PlannedNode[] {
    return this.slots.filter((p): p is PlannedNode => p !== undefined);
  }
}

/** Which If-branch guards a node runs under, as one comparable string. */
export const guardKey = (p: PlannedNode): string => (p.guards ?? []).map((g) => `${g.cond}:${g.when}`).join();

/**
 * `host` with `consumer` folded into it: named `host+consumer`, reading `inputs` (known as
 * `values`), writing the consumer's output. The caller puts it in the pair's place.
 */
export function merged(host: PlannedNode, consumer: PlannedNode, inputs: readonly string[], values: readonly (KnownValue | undefined)[]): PlannedNode {
  const node: Node = { ...host.node, name: `${host.node.name}+${consumer.node.name}`, inputs, outputs: [consumer.node.outputs[0]!] };
  return { ...host, node, inputs: values, outputs: [consumer.outputs[0]!] };
}

/** The single value of a load-time-known input, if it has exactly one element. */
export function scalarInput(p: PlannedNode, input: number): number | undefined {
  const v = p.inputs[input]?.value;
  return v && v.data.length === 1 ? Number(v.data[0]) : undefined;
}
