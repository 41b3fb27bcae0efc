import { BundleError } from '../errors.js';
import { isGraphAttr, isTensorAttr, type AttrValue, type Graph, type GraphInput } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { numberFromJson, numberToJson, type AttrJson, type GraphJson, type ValueJson } from './manifest.js';

/**
 * The IR graph to and from its manifest JSON. Tensors (initializers and tensor attributes, in
 * If branches too) leave the JSON for one flat table that the bundle stores as aligned blobs; the
 * graph refers to them by index.
 */

export interface NamedTensor {
  /** The initializer's name, or `node.attribute` for a tensor attribute. */
  readonly name: string;
  readonly tensor: Tensor;
}

const valueToJson = (v: GraphInput): ValueJson => ({ name: v.name, dtype: v.dtype, dims: [...v.dims] });

export function encodeGraph(root: Graph): { graph: GraphJson; tensors: NamedTensor[] } {
  const tensors: NamedTensor[] = [];
  // A tensor object held in two places (a shared weight) is stored once.
  const placed = new Map<Tensor, number>();
  const place = (name: string, tensor: Tensor): number => {
    let i = placed.get(tensor);
    if (i === undefined) {
      i = tensors.push({ name, tensor }) - 1;
      placed.set(tensor, i);
    }
    return i;
  };

  const attrToJson = (v: AttrValue, name: string): AttrJson => {
    if (typeof v === 'number') return { number: numberToJson(v) };
    if (typeof v === 'string') return { string: v };
    if (isTensorAttr(v)) return { tensor: place(name, v) };
    if (isGraphAttr(v)) return { graph: graphToJson(v) };
    // The IR does not say what an empty list held; as ints it reads back the same.
    return typeof v[0] === 'string' ? { strings: [...(v as readonly string[])] } : { numbers: (v as readonly number[]).map(numberToJson) };
  };

  const graphToJson = (g: Graph): GraphJson => {
    const initializers = [...g.initializers].map(([name, t]) => ({ name, tensor: place(name, t) }));
    const nodes = g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attrToJson(v, `${n.name}.${k}`)])),
    }));
    return { nodes, inputs: g.inputs.map(valueToJson), outputs: g.outputs.map(valueToJson), initializers };
  };

  return { graph: graphToJson(root), tensors };
}

export function decodeGraph(json: GraphJson, tensors: readonly Tensor[]): Graph {
  const tensorAt = (i: number): Tensor => {
    const t = tensors[i];
    if (!t) throw new BundleError('MANIFEST_INVALID', `manifest refers to tensor ${i}; the table has ${tensors.length}`);
    return t;
  };
  const attrFromJson = (a: AttrJson): AttrValue => {
    if ('number' in a) return numberFromJson(a.number);
    if ('string' in a) return a.string;
    if ('numbers' in a) return a.numbers.map(numberFromJson);
    if ('strings' in a) return [...a.strings];
    if ('tensor' in a) return tensorAt(a.tensor);
    return decodeGraph(a.graph, tensors);
  };
  return {
    nodes: json.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, attrFromJson(a)])),
    })),
    inputs: json.inputs.map((v) => ({ ...v, dims: [...v.dims] })),
    outputs: json.outputs.map((v) => ({ ...v, dims: [...v.dims] })),
    initializers: new Map(json.initializers.map((i) => [i.name, tensorAt(i.tensor)])),
  };
}
