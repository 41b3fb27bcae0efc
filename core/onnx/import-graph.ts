import { UnsupportedOpError } from '../errors.js';
import { isGraphAttr, type Graph, type Node } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { constant } from '../compress/layers.js';

/** A node the import cannot read, refused by name as the planner refuses an operator without a kernel. */
export const refuseNode = (node: Node, reason: string): UnsupportedOpError =>
  new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason }]);

/** ONNX element types the loader widens (int8/uint8 → int32, float16 → float32) that the import must still tell apart. */
export type StoredType = 'int8' | 'uint8' | 'float16';

/**
 * The graph under rewrite by the quantized-model import: nodes in order, initializers, the ONNX
 * element types the loader widened away, and the notes on what could not be carried over exactly.
 */
export class ImportGraph {
  nodes: Node[];
  initializers: Map<string, Tensor>;
  readonly notes: string[] = [];

  constructor(private readonly source: Graph, readonly stored: ReadonlyMap<string, StoredType>) {
    this.nodes = [...source.nodes];
    this.initializers = new Map(source.initializers);
  }

  graph(): Graph {
    return { ...this.source, nodes: this.nodes, initializers: this.initializers };
  }

  /** Takes over the nodes and initializers of a graph rewritten from this one's. */
  adopt(graph: Graph): void {
    this.nodes = [...graph.nodes];
    this.initializers = new Map(graph.initializers);
  }

  constant(name: string | undefined): Tensor | undefined {
    return constant(this.graph(), name);
  }

  producer(name: string | undefined): Node | undefined {
    return name ? this.nodes.find((n) => n.outputs.includes(name)) : undefined;
  }

  /** Nodes reading `name`; a graph output counts as a reader no rewrite may remove. */
  readers(name: string): Node[] {
    return this.nodes.filter((n) => n.inputs.includes(name));
  }

  isGraphOutput(name: string): boolean {
    return this.source.outputs.some((o) => o.name === name);
  }

  /** `replacement` takes the place of `at`; the other nodes of `pattern` go. */
  replace(pattern: readonly Node[], at: Node, replacement: Node): void {
    const gone = new Set(pattern);
    this.nodes = this.nodes.flatMap((n) => (n === at ? [replacement] : gone.has(n) ? [] : [n]));
  }

  /** Values read by a node (If branches included, which read outer values too) or a graph output. */
  private read(): Set<string> {
    const read = new Set(this.source.outputs.map((o) => o.name));
    const mark = (nodes: readonly Node[]): void => {
      for (const n of nodes) {
        n.inputs.forEach((v) => v && read.add(v));
        for (const a of Object.values(n.attrs)) if (isGraphAttr(a)) mark(a.nodes);
      }
    };
    mark(this.nodes);
    return read;
  }

  /** Removes nodes none of whose outputs anything reads (what is left of a rewritten pattern), then unread initializers. */
  dropDead(): void {
    for (let changed = true; changed;) {
      const read = this.read();
      const kept = this.nodes.filter((n) => n.outputs.some((o) => o && read.has(o)));
      changed = kept.length !== this.nodes.length;
      this.nodes = kept;
    }
    const read = this.read();
    for (const name of [...this.initializers.keys()]) if (!read.has(name)) this.initializers.delete(name);
  }
}
