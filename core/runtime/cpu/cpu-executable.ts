import { CpuKernelError, MemoryLimitError } from '../../errors.js';
import { sizeOf, type Tensor } from '../../tensor.js';
import type { BindingRef } from '../../../kernels/op.js';
import type { ExecutionPlan } from '../plan.js';
import { planKernels } from '../kernel-plans.js';
import { align, bytesOf, fromWords, planValueSlots, scratchKey, toWords } from '../value-slots.js';
import type { CpuKernels } from './kernel-module.js';

/**
 * An execution plan made resident in one wasm instance's linear memory. At load: kernels planned,
 * one memory layout computed (constants, then value slots packed by lifetime, then uniforms),
 * memory grown once, constants and uniforms written, every call's arguments resolved to offsets.
 * A run writes the feeds, makes the calls in order and copies the outputs out.
 */

interface Call {
  readonly fn: (...args: number[]) => void;
  readonly args: readonly number[];
}

/** A graph output: where it lies in memory and what it holds. */
interface OutputSlot {
  readonly name: string;
  readonly offset: number;
  readonly dtype: Tensor['dtype'];
  readonly dims: readonly number[];
  readonly elements: number;
}

/** A node runs only when the u32 word at `offset` is nonzero exactly when `when` says. */
interface NodeGuard {
  readonly offset: number;
  readonly when: boolean;
}

export interface CpuNodeRecord {
  readonly name: string;
  readonly opType: string;
  readonly calls: number;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB; engines allow 2–4 GiB; 2 GiB is safe everywhere. */
const WASM32_LIMIT = 2 ** 31;

export class CpuExecutable {
  readonly nodes: readonly CpuNodeRecord[];
  readonly callCount: number;
  readonly memoryBytes: number;
  private readonly guarded: boolean;

  private constructor(
    private readonly kernels: CpuKernels,
    private readonly perNode: readonly (readonly Call[])[],
    private readonly guards: readonly (readonly NodeGuard[] | undefined)[],
    private readonly inputOffsets: ReadonlyMap<string, number>,
    private readonly outputSlots: readonly OutputSlot[],
    records: CpuNodeRecord[],
  ) {
    this.guarded = guards.some((g) => g !== undefined);
    this.nodes = records;
    this.callCount = perNode.reduce((n, c) => n + c.length, 0);
    this.memoryBytes = kernels.memory.buffer.byteLength;
  }

  /** `memoryLimit` bounds the linear memory the plan may take (a Worker has 128 MB in all). */
  static create(kernels: CpuKernels, plan: ExecutionPlan, memoryLimit = WASM32_LIMIT): CpuExecutable {
    const opPlans = planKernels(plan, 'cpu');
    const missing = [...new Set(opPlans.flatMap((op) => (op.kind === 'call' ? op.calls.map((c) => c.fn) : [])))].filter((fn) => !kernels.fns[fn]);
    if (missing.length) throw new CpuKernelError(`the CPU kernel module lacks ${missing.join(', ')}: rebuild it (npm run build)`);

    // Layout: [kernels' own data and stack | constants | value slots | per-op constants | uniforms].
    let top = align(kernels.heapBase, 64);
    const place = (bytes: number): number => {
      const at = top;
      top = align(top + bytes, 64);
      return at;
    };
    const writes: { at: number; words: ArrayBufferView }[] = [];
    const constOffset = new Map<string, number>();
    const slots = planValueSlots(plan, opPlans.map((op) => ({ alias: op.kind === 'alias', scratch: op.kind === 'call' ? op.scratch : undefined })));
    const slotOffsets = slots.slotBytes.map(place);
    const valueOffset = (name: string): number => {
      const r = slots.rootOf(name);
      const slot = slots.slotOf.get(r);
      if (slot !== undefined) return slotOffsets[slot]!;
      let at = constOffset.get(r);
      if (at === undefined) {
        const t = plan.constants.get(r);
        if (!t) throw new CpuKernelError(`internal: no storage for value "${name}"`);
        at = place(bytesOf(t.dims));
        constOffset.set(r, at);
        writes.push({ at, words: toWords(t) });
      }
      return at;
    };

    const records: CpuNodeRecord[] = [];
    const perNode: { fn: string; args: number[] }[][] = plan.nodes.map((p, k) => {
      const op = opPlans[k]!;
      const calls: { fn: string; args: number[] }[] = [];
      if (op.kind === 'call') {
        const constants = (op.constants ?? []).map((t) => {
          const at = place(bytesOf(t.dims));
          writes.push({ at, words: toWords(t) });
          return at;
        });
        for (const call of op.calls) {
          const resolve = (ref: BindingRef): number => {
            if ('input' in ref) return valueOffset(p.node.inputs[ref.input]!);
            if ('output' in ref) return valueOffset(p.node.outputs[ref.output]!);
            if ('scratch' in ref) return slotOffsets[slots.slotOf.get(scratchKey(k, ref.scratch))!]!;
            return constants[ref.constant]!;
          };
          const args = call.bindings.map(resolve);
          if (call.uniforms) {
            const at = place(call.uniforms.byteLength);
            writes.push({ at, words: call.uniforms });
            args.push(at);
          }
          calls.push({ fn: call.fn, args });
        }
      }
      records.push({ name: p.node.name, opType: p.node.opType, calls: calls.length });
      return calls;
    });
    const inputOffsets = new Map(plan.inputs.map((i) => [i.name, valueOffset(i.name)]));
    const outputSlots = plan.outputs.map((o): OutputSlot => ({ name: o.name, offset: valueOffset(o.name), dtype: o.dtype, dims: o.dims, elements: sizeOf(o.dims) }));
    // Unlike a GPU command buffer, the CPU can branch: the side of an If not selected is skipped.
    const guards = plan.nodes.map((p) => p.guards?.map((g) => ({ offset: valueOffset(g.cond), when: g.when })));

    if (top > memoryLimit) {
      throw new MemoryLimitError(
        `the model needs ${(top / 2 ** 20).toFixed(1)} MiB of CPU kernel memory ` +
          `(weights, activations by lifetime, scratch), over the limit of ${(memoryLimit / 2 ** 20).toFixed(1)} MiB`,
      );
    }
    const { memory } = kernels;
    const pages = Math.ceil(top / PAGE) - memory.buffer.byteLength / PAGE;
    try {
      if (pages > 0) memory.grow(pages);
    } catch (e) {
      throw new MemoryLimitError(`growing CPU kernel memory to ${(top / 2 ** 20).toFixed(1)} MiB failed: ${(e as Error).message}`);
    }
    const bytes = new Uint8Array(memory.buffer);
    for (const w of writes) bytes.set(new Uint8Array(w.words.buffer, w.words.byteOffset, w.words.byteLength), w.at);
    const resolved = perNode.map((calls) => calls.map((c) => ({ fn: kernels.fns[c.fn]!, args: c.args })));
    return new CpuExecutable(kernels, resolved, guards, inputOffsets, outputSlots, records);
  }

  /**
   * Runs once; with `profile`, the wall time of each node's calls is measured too. Output slots
   * are resolved at load and the guard words are viewed only when a node has guards: a wake-word
   * head's whole run is ~20 µs.
   */
  run(feeds: ReadonlyMap<string, Tensor>, profile = false): { outputs: Map<string, Tensor>; perNodeMs?: number[] } {
    const { buffer } = this.kernels.memory;
    const bytes = new Uint8Array(buffer);
    for (const [name, at] of this.inputOffsets) {
      const w = toWords(feeds.get(name)!);
      bytes.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), at);
    }
    const perNodeMs = profile ? new Array<number>(this.perNode.length) : undefined;
    const words = this.guarded ? new Uint32Array(buffer) : undefined;
    try {
      for (let k = 0; k < this.perNode.length; k++) {
        const guards = this.guards[k];
        if (guards && words && guards.some((g) => (words[g.offset >> 2] !== 0) !== g.when)) {
          if (perNodeMs) perNodeMs[k] = 0;
          continue;
        }
        const t0 = perNodeMs ? performance.now() : 0;
        for (const c of this.perNode[k]!) c.fn(...c.args);
        if (perNodeMs) perNodeMs[k] = performance.now() - t0;
      }
    } catch (e) {
      throw new CpuKernelError(`a CPU kernel trapped: ${(e as Error).message}`, { cause: e });
    }
    const outputs = new Map<string, Tensor>();
    for (const o of this.outputSlots) outputs.set(o.name, { dtype: o.dtype, dims: o.dims, data: fromWords(buffer, o.offset, o.dtype, o.elements) });
    return { outputs, perNodeMs };
  }
}
