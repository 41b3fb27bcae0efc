import { ModelFormatError, ShapeError, UnsupportedOpError, type UnsupportedNode } from '../errors.js';
import type { Graph, GraphInput, Model, Node, ValueInfo } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import type { KnownValue, OpDef } from '../../kernels/op.js';
import { isOnnxDomain, lookupOp, TESSERA_DOMAIN } from '../../kernels/registry.js';
import { fuse } from './fuse.js';

/**
 * Turns a model into an execution plan for one binding of the input dims: folds everything known
 * at load (initializers, Shape of static values, Constant, If with a known condition; an If known
 * only at run time becomes Where over both branches), infers every value's static shape, fuses
 * epilogues and drops what no output needs.
 */

export interface PlannedNode {
  readonly node: Node;
  readonly def: OpDef;
  readonly inputs: readonly (KnownValue | undefined)[];
  readonly outputs: readonly ValueInfo[];
  /**
   * Set on nodes of an If branch whose condition is only known at run time: the node's result is
   * only selected when every guard's condition value equals `when`. A backend may skip the node
   * otherwise (the CPU does); running it anyway is always correct, as Where picks the other side.
   */
  readonly guards?: readonly Guard[];
}

export interface Guard {
  /** A bool value holding one element. */
  readonly cond: string;
  readonly when: boolean;
}

export interface BoundValue extends ValueInfo {
  readonly name: string;
}

export interface ExecutionPlan {
  readonly opset: number;
  readonly inputs: readonly BoundValue[];
  readonly outputs: readonly BoundValue[];
  readonly nodes: readonly PlannedNode[];
  /** Values known at load that runtime nodes or outputs read. */
  readonly constants: ReadonlyMap<string, Tensor>;
}

const STRUCTURAL_OPS = new Set(['If', 'Constant']);
/** Ops whose outputs depend only on their input's dims, so they fold even on run-time inputs. */
const DIMS_ONLY_OPS = new Set(['Shape', 'Size']);

/** Every node the registry cannot run, across nested If branches, reported together. */
export function findUnsupported(graph: Graph, out: UnsupportedNode[] = []): UnsupportedNode[] {
  for (const node of graph.nodes) {
    if (!isOnnxDomain(node.domain) && node.domain !== TESSERA_DOMAIN) {
      out.push({ opType: node.opType, domain: node.domain, node: node.name, reason: `operator domain "${node.domain}" is not supported` });
    } else if (node.opType === 'If' && isOnnxDomain(node.domain)) {
      for (const branch of ['then_branch', 'else_branch']) {
        const g = node.attrs[branch];
        if (g && typeof g === 'object' && 'nodes' in g) findUnsupported(g as Graph, out);
      }
    } else if (!(isOnnxDomain(node.domain) && STRUCTURAL_OPS.has(node.opType)) && !lookupOp(node.domain, node.opType)) {
      out.push({ opType: node.opType, domain: node.domain, node: node.name, reason: 'no kernel for this operator' });
    }
  }
  return out;
}

/** Binds symbolic dims: explicit per-input dims win, then named symbols, then 1. */
export function bindInputDims(
  input: GraphInput,
  given: readonly number[] | undefined,
  symbols: Readonly<Record<string, number>>,
): number[] {
  if (given) {
    if (given.length !== input.dims.length) {
      throw new ShapeError(`input "${input.name}" has rank ${input.dims.length}, got dims [${given.join(', ')}]`);
    }
    input.dims.forEach((d, i) => {
      if (typeof d === 'number' && d !== given[i]) {
        throw new ShapeError(`input "${input.name}" has fixed dim ${i} = ${d}, got ${given[i]}`);
      }
    });
    return [...given];
  }
  return input.dims.map((d) => (typeof d === 'number' ? d : symbols[d] ?? 1));
}

export interface PlanOptions {
  /** Dims for each graph input; symbolic dims not given here come from `symbols`, else 1. */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  readonly symbols?: Readonly<Record<string, number>>;
}

export function planModel(model: Model, options: PlanOptions = {}): ExecutionPlan {
  const unsupported = findUnsupported(model.graph);
  if (unsupported.length) throw new UnsupportedOpError(unsupported);

  const known = new Map<string, KnownValue>();
  for (const [name, t] of model.graph.initializers) known.set(name, { dtype: t.dtype, dims: t.dims, value: t });
  const inputs: BoundValue[] = model.graph.inputs.map((input) => {
    const dims = bindInputDims(input, options.inputDims?.[input.name], options.symbols ?? {});
    known.set(input.name, { dtype: input.dtype, dims });
    return { name: input.name, dtype: input.dtype, dims };
  });

  const nodes: PlannedNode[] = [];
  const unsupportedAtLoad: UnsupportedNode[] = [];
  walk(model.graph.nodes, model.opset, known, nodes, unsupportedAtLoad);
  if (unsupportedAtLoad.length) throw new UnsupportedOpError(unsupportedAtLoad);

  const outputs: BoundValue[] = model.graph.outputs.map((o) => {
    const v = known.get(o.name);
    if (!v) throw new ModelFormatError(`graph output "${o.name}" is produced by no node`);
    return { name: o.name, dtype: v.dtype, dims: v.dims };
  });

  const fused = fuse(nodes, new Set(outputs.map((o) => o.name)));
  const live = dropDead(fused, outputs);
  const constants = new Map<string, Tensor>();
  const wanted = new Set([...live.flatMap((p) => p.node.inputs), ...outputs.map((o) => o.name)]);
  for (const name of wanted) {
    const v = known.get(name);
    if (v?.value) constants.set(name, v.value);
  }
  // Fusion passes may fold parameters into new tensors, known only as the fused node's inputs.
  for (const p of live) {
    p.node.inputs.forEach((name, i) => {
      const v = p.inputs[i]?.value;
      if (name && v) constants.set(name, v);
    });
  }
  return { opset: model.opset, inputs, outputs, nodes: live, constants };
}

function walk(
  graphNodes: readonly Node[],
  opset: number,
  known: Map<string, KnownValue>,
  planned: PlannedNode[],
  unsupported: UnsupportedNode[],
): void {
  for (const node of graphNodes) {
    if (node.opType === 'Constant') {
      const t = constantValue(node);
      known.set(node.outputs[0]!, { dtype: t.dtype, dims: t.dims, value: t });
      continue;
    }
    if (node.opType === 'If') {
      inlineIf(node, opset, known, planned, unsupported);
      continue;
    }
    const def = lookupOp(node.domain, node.opType)!;
    const ins = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = known.get(name);
      if (!v) throw new ModelFormatError(`node "${node.name}" reads "${name}", which nothing produces before it`);
      return v;
    });
    const ctx = { node, opset };
    const present = ins.filter((v): v is KnownValue => v !== undefined);
    if (present.every((v) => v.value) || (DIMS_ONLY_OPS.has(node.opType) && present.length > 0)) {
      // Everything known: evaluate now, with the reference as the one source of truth.
      const outs = def.reference(ins.map((v) => (v?.value ?? (v ? placeholder(v) : undefined))), ctx);
      node.outputs.forEach((name, i) => {
        const t = outs[i];
        if (name && t) known.set(name, { dtype: t.dtype, dims: t.dims, value: t });
      });
      continue;
    }
    const missing = (def.constInputs ?? []).filter((i) => ins[i] && !ins[i]!.value);
    if (missing.length) {
      unsupported.push({
        opType: node.opType, domain: node.domain, node: node.name,
        reason: `input(s) ${missing.map((i) => `"${node.inputs[i]}"`).join(', ')} must be known at load (computed from data at run time here)`,
      });
      continue;
    }
    let outs: ValueInfo[];
    try {
      outs = def.shape(ins, ctx);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(`node "${node.name}" (${node.opType}): ${e.message}`);
      throw e;
    }
    node.outputs.forEach((name, i) => {
      if (name && outs[i]) known.set(name, outs[i]!);
    });
    planned.push({ node, def, inputs: ins, outputs: outs });
  }
}

/** Shape and Size need only dims; the reference gets an empty stand-in for a value not known at load. */
function placeholder(v: ValueInfo): Tensor {
  return { dtype: v.dtype, dims: v.dims, data: new Float32Array(0) };
}

function constantValue(node: Node): Tensor {
  const a = node.attrs;
  if (a.value && typeof a.value === 'object' && 'data' in a.value) return a.value as Tensor;
  if (typeof a.value_float === 'number') return { dtype: 'float32', dims: [], data: Float32Array.of(a.value_float) };
  if (typeof a.value_int === 'number') return { dtype: 'int64', dims: [], data: Int32Array.of(a.value_int) };
  if (Array.isArray(a.value_floats)) return { dtype: 'float32', dims: [a.value_floats.length], data: Float32Array.from(a.value_floats as number[]) };
  if (Array.isArray(a.value_ints)) return { dtype: 'int64', dims: [a.value_ints.length], data: Int32Array.from(a.value_ints as number[]) };
  throw new UnsupportedOpError([{ opType: 'Constant', domain: '', node: node.name, reason: 'only tensor, float(s) and int(s) values are supported' }]);
}

/**
 * An If whose condition is known at load is replaced by the chosen branch. Otherwise both branches
 * are planned and each output becomes Where(cond, then, else): one command buffer per inference
 * admits no host-side branching, and the branches of real models (openWakeWord's verifier head)
 * are small next to a GPU round-trip. Branches whose outputs differ in dtype or dims are refused.
 */
function inlineIf(
  node: Node,
  opset: number,
  known: Map<string, KnownValue>,
  planned: PlannedNode[],
  unsupported: UnsupportedNode[],
): void {
  const cond = known.get(node.inputs[0]!);
  if (!cond) throw new ModelFormatError(`If "${node.name}" reads "${node.inputs[0]}", which nothing produces before it`);
  const branchNames = cond.value ? [cond.value.data[0] ? 'then_branch' : 'else_branch'] : ['then_branch', 'else_branch'];
  const results = branchNames.map((b) => {
    const branch = node.attrs[b] as Graph;
    for (const [name, t] of branch.initializers) known.set(name, { dtype: t.dtype, dims: t.dims, value: t });
    const start = planned.length;
    walk(branch.nodes, opset, known, planned, unsupported);
    if (!cond.value) {
      const guard: Guard = { cond: node.inputs[0]!, when: b === 'then_branch' };
      for (let i = start; i < planned.length; i++) planned[i] = { ...planned[i]!, guards: [...(planned[i]!.guards ?? []), guard] };
    }
    return branch.outputs.map((o) => {
      if (!known.has(o.name)) throw new ModelFormatError(`If "${node.name}": branch output "${o.name}" is produced by no node`);
      return o.name;
    });
  });
  node.outputs.forEach((target, i) => {
    if (!target) return;
    const sources = results.map((outs) => outs[i]);
    if (sources.some((s) => s === undefined)) throw new ModelFormatError(`If "${node.name}": a branch has no output ${i}`);
    const [a, b] = sources.map((s) => known.get(s!)!);
    if (b && (a!.dtype !== b.dtype || a!.dims.join() !== b.dims.join())) {
      unsupported.push({
        opType: 'If', domain: '', node: node.name,
        reason: `condition is only known at run time and output ${i} differs between branches ` +
          `(${a!.dtype}[${a!.dims}] vs ${b.dtype}[${b.dims}])`,
      });
      return;
    }
    if (!b && a!.value) {
      known.set(target, a!);
      return;
    }
    const select: Node = b
      ? { name: `${node.name}/select${i}`, opType: 'Where', domain: '', inputs: [node.inputs[0]!, sources[0]!, sources[1]!], outputs: [target], attrs: {} }
      : { name: `${node.name}/out${i}`, opType: 'Identity', domain: '', inputs: [sources[0]!], outputs: [target], attrs: {} };
    walk([select], opset, known, planned, unsupported);
  });
}

function dropDead(nodes: readonly PlannedNode[], outputs: readonly BoundValue[]): PlannedNode[] {
  const needed = new Set(outputs.map((o) => o.name));
  const kept: PlannedNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const p = nodes[i]!;
    if (!p.node.outputs.some((o) => needed.has(o))) continue;
    for (const name of p.node.inputs) if (name) needed.add(name);
    kept.push(p);
  }
  return kept.reverse();
}
