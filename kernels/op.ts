import type { Node, ValueInfo } from '../core/ir/graph.js';
import type { Tensor } from '../core/tensor.js';

/**
 * One operator's faces. `shape` and `reference` are mandatory: the planner needs the first and the
 * tests use the second as their oracle. `webgpu` plans the dispatches for static shapes; `cpu`
 * plans calls into the WebAssembly kernels (the C twins of the WGSL ones, built into one module).
 */
export interface OpDef {
  /** Output types and dims; `value` is set on inputs known at load (initializers, folded constants). */
  shape(inputs: readonly (KnownValue | undefined)[], ctx: OpContext): ValueInfo[];
  /** Plain, obviously-right TypeScript; also used for constant folding at load. */
  reference(inputs: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[];
  /** Input indices whose values must be known at load for static planning (e.g. Reshape's shape). */
  readonly constInputs?: readonly number[];
  /** Omitted when the op only ever runs folded at load (Shape, ConstantOfShape). */
  webgpu?(args: GpuOpArgs): GpuOpPlan;
  /** Omitted, like `webgpu`, only for ops that always fold at load. */
  cpu?(args: GpuOpArgs): CpuOpPlan;
}

export interface KnownValue extends ValueInfo {
  readonly value?: Tensor;
}

export interface OpContext {
  readonly node: Node;
  readonly opset: number;
}

export interface GpuOpArgs extends OpContext {
  readonly inputs: readonly (KnownValue | undefined)[];
  readonly outputs: readonly ValueInfo[];
  /**
   * WebGPU only: the WGSL language features of the device's implementation
   * (`navigator.gpu.wgslLanguageFeatures`), for kernels with a faster variant behind one.
   * Absent or empty: plan the portable variant.
   */
  readonly features?: ReadonlySet<string>;
}

/** Where a binding's buffer comes from. Bindings are numbered in array order; uniforms come last. */
export type BindingRef =
  | { readonly input: number }
  | { readonly output: number }
  | { readonly scratch: number }
  /** A tensor the plan packed itself (re-laid-out weights, folded parameters). */
  | { readonly constant: number };

export interface GpuProgram {
  /** Full WGSL source; pipelines are cached by it, so shapes belong in `uniforms`, not here. */
  readonly code: string;
  readonly workgroups: readonly [number, number, number];
  readonly bindings: readonly BindingRef[];
  /** Packed 32-bit words (u32/i32/f32 bits), bound as `var<uniform>` after the other bindings. */
  readonly uniforms?: Uint32Array;
}

/** What a kernel plan holds besides its launches. */
export interface PlanResources {
  /** Byte sizes of temporaries live only during this op. */
  readonly scratch?: readonly number[];
  /** Tensors the plan packed itself (re-laid-out weights, folded parameters), bound as `{ constant: i }`. */
  readonly constants?: readonly Tensor[];
}

/** Output 0 is a view of input 0 with new dims (Reshape, Flatten, Squeeze, Identity…): no kernel. */
export interface AliasPlan {
  readonly kind: 'alias';
}

export type GpuOpPlan = AliasPlan | ({ readonly kind: 'dispatch'; readonly programs: readonly GpuProgram[] } & PlanResources);

/**
 * One call of an exported wasm kernel: `fn(...bindings, uniforms)`, every argument an i32 byte
 * offset into the module's memory. Values are laid out as on the GPU (32-bit words: f32, i32 with
 * int64 narrowed, u32 for bool, 16-byte aligned), so a C kernel can read the same uniform struct
 * as its WGSL twin; `uniforms` is copied into memory once at load and passed last when present.
 */
export interface CpuCall {
  readonly fn: string;
  readonly bindings: readonly BindingRef[];
  readonly uniforms?: Uint32Array;
}

export type CpuOpPlan = AliasPlan | ({ readonly kind: 'call'; readonly calls: readonly CpuCall[] } & PlanResources);
