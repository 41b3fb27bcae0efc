import { sizeOf, type Tensor, type TensorData } from '../tensor.js';
import type { ExecutionPlan } from './plan.js';
import { planMemory, type Lifetime } from './memory-plan.js';

/**
 * Where every run-time value of a plan lives, for any backend that keeps values in numbered slots
 * (GPU buffers, regions of wasm memory): views share their source's slot, feeds and outputs keep
 * theirs for the whole run, everything else is packed by lifetime.
 */

export const align = (n: number, a: number): number => Math.ceil(n / a) * a;
/** Every dtype is stored as 32-bit words, at least one, rounded to 16 bytes for vector access. */
export const bytesOf = (dims: readonly number[]): number => align(Math.max(4, sizeOf(dims) * 4), 16);
/** Storage words of a tensor: f32, i32 (int64 narrowed), u32 for bool. */
export function toWords(t: Tensor): ArrayBufferView<ArrayBuffer> {
  if (t.dtype === 'bool') return Uint32Array.from(t.data);
  return t.data as ArrayBufferView<ArrayBuffer>;
}

/**
 * A tensor copied out of storage words (the copy survives the storage being reused or grown). The
 * typed array's slice, not the buffer's: slicing a wasm memory's ArrayBuffer measured 2 µs for a
 * one-value output.
 */
export function fromWords(words: ArrayBufferLike, byteOffset: number, dtype: Tensor['dtype'], n: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(words, byteOffset, n).slice();
    case 'bool': return Uint8Array.from(new Uint32Array(words, byteOffset, n));
    default: return new Int32Array(words, byteOffset, n).slice();
  }
}

export const scratchKey = (node: number, scratch: number): string => `\0scratch${node}/${scratch}`;

export interface StepShape {
  /** Output 0 is a view of input 0: no storage of its own. */
  readonly alias: boolean;
  readonly scratch?: readonly number[];
}

export interface ValueSlots {
  /** The value whose storage `name` shares (itself unless it is a view). */
  rootOf(name: string): string;
  /** Slot of a root value or scratch key; undefined for constants and unknown names. */
  readonly slotOf: ReadonlyMap<string, number>;
  readonly slotBytes: readonly number[];
}

export function planValueSlots(plan: ExecutionPlan, steps: readonly StepShape[]): ValueSlots {
  // Step 0 writes the feeds, node k is step k + 1.
  const root = new Map<string, string>();
  const rootOf = (name: string): string => root.get(name) ?? name;
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const bytes = new Map<string, number>();
  for (const input of plan.inputs) {
    first.set(input.name, 0);
    bytes.set(input.name, bytesOf(input.dims));
    // Feeds are written before the run starts, so their slot must not be shared with anything.
    last.set(input.name, Infinity);
  }
  plan.nodes.forEach((p, k) => {
    const step = k + 1;
    for (const name of p.node.inputs) {
      if (!name || plan.constants.has(name)) continue;
      const r = rootOf(name);
      last.set(r, Math.max(last.get(r) ?? step, step));
    }
    const shape = steps[k]!;
    if (shape.alias) {
      // The planner folds views of constants at load, so a view's source always has a slot.
      root.set(p.node.outputs[0]!, rootOf(p.node.inputs[0]!));
      return;
    }
    p.node.outputs.forEach((name, i) => {
      if (!name) return;
      first.set(name, step);
      bytes.set(name, bytesOf(p.outputs[i]!.dims));
      last.set(name, Math.max(last.get(name) ?? step, step));
    });
    shape.scratch?.forEach((b, s) => {
      const key = scratchKey(k, s);
      first.set(key, step);
      last.set(key, step);
      bytes.set(key, align(Math.max(4, b), 16));
    });
  });
  for (const o of plan.outputs) if (first.has(rootOf(o.name))) last.set(rootOf(o.name), Infinity);

  const names = [...first.keys()];
  const lifetimes: Lifetime[] = names.map((n) => ({ bytes: bytes.get(n)!, first: first.get(n)!, last: last.get(n)! }));
  const memory = planMemory(lifetimes);
  return {
    rootOf,
    slotOf: new Map(names.map((n, i) => [n, memory.assignment[i]!])),
    slotBytes: memory.bufferBytes,
  };
}
