import { sizeOf, stridesOf, type DType } from '../../core/tensor.js';
import { dispatch1d, Params, paramsDecl, wgslType } from '../wgsl.js';
import template from './strided.wgsl';
import type { LayoutProgram } from './twin.js';

/**
 * Builds dispatches of the generic strided-copy kernel (strided.wgsl, and its C twin strided.c).
 * Each op describes its copy as an iteration space with per-axis affine source coordinates; see the
 * kernel header for the arithmetic.
 */

/** How a source coordinate outside [0, src_dim) is brought back (or marked outside). */
export type Bound = 'none' | 'wrap' | 'clamp' | 'reflect' | 'fill';

/** Each rule's WGSL body, and its number in uniform word 7 for the C twin (EdgeRule in strided.c). */
const BOUNDS: Record<Bound, { readonly wgsl: string; readonly code: number }> = {
  none: { code: 0, wgsl: 'return k;' },
  wrap: { code: 1, wgsl: 'let r = k % n;\n  return select(r, r + n, r < 0);' },
  clamp: { code: 2, wgsl: 'return clamp(k, 0, n - 1);' },
  // Mirror without repeating the edge, period 2(n-1); repeats for pads wider than the axis.
  reflect: { code: 3, wgsl: 'if (n == 1) { return 0; }\n  let m = 2 * (n - 1);\n  var r = k % m;\n  if (r < 0) { r += m; }\n  return select(r, m - r, r >= n);' },
  fill: { code: 4, wgsl: 'return select(k, -1, k < 0 || k >= n);' },
};

export interface StridedAxis {
  /** Extent of the iteration space along this axis. */
  readonly n: number;
  readonly start?: number;
  readonly step?: number;
  /** Extent of the source along this axis (only the edge rules read it). */
  readonly srcDim?: number;
  readonly srcStride: number;
  /** Defaults to the row-major stride of the iteration space (a gather into a whole output). */
  readonly dstStride?: number;
  /** Stride into the index tensor (Gather-like copies only). */
  readonly idxStride?: number;
}

export interface StridedCopy {
  readonly dtype: DType;
  readonly axes: readonly StridedAxis[];
  /** Node input read as the source, and node output written. */
  readonly src: number;
  readonly dst: number;
  readonly srcBase?: number;
  readonly dstBase?: number;
  readonly bound?: Bound;
  /** Value written where the `fill` rule finds a coordinate outside the source. */
  readonly fill?: number;
  /** Gather-like copies: an int index tensor (node input `input`) selects along a source axis. */
  readonly gather?: { readonly input: number; readonly dim: number; readonly stride: number };
}

/**
 * Without an edge rule the copy is plain affine, so it can be brought to its fewest axes: starts
 * fold into the source base, steps into the strides, size-1 axes drop, and an axis merges into the
 * next inner one when every stride continues it (source, destination and index alike). Most
 * Concat/Split/Slice/Gather copies and many Transposes end up rank 1–3, which means fewer div/mods
 * per element and fewer distinct pipelines (the rank is in the shader text). Under an edge rule,
 * an axis the rule can never touch (the whole source axis in order: Pad's and Tile's untouched
 * axes) is plain affine too and is treated alike; only the others keep start, step and extent.
 */
function simplify(copy: StridedCopy): StridedCopy {
  const edged = (copy.bound ?? 'none') !== 'none';
  const contiguous = stridesOf(copy.axes.map((a) => a.n));
  let srcBase = copy.srcBase ?? 0;
  const affine = copy.axes.map((a, d) => {
    const plain = !edged || ((a.start ?? 0) === 0 && (a.step ?? 1) === 1 && a.n === (a.srcDim ?? a.n));
    const axis = { n: a.n, dstStride: a.dstStride ?? contiguous[d]!, idxStride: a.idxStride ?? 0 };
    if (!plain) return { ...axis, plain, start: a.start ?? 0, step: a.step ?? 1, srcDim: a.srcDim ?? a.n, srcStride: a.srcStride };
    srcBase += (a.start ?? 0) * a.srcStride;
    return { ...axis, plain, srcStride: (a.step ?? 1) * a.srcStride };
  });
  const axes: (typeof affine)[number][] = [];
  for (let d = affine.length - 1; d >= 0; d--) {
    const a = affine[d]!;
    if (a.n === 1 && a.plain) continue;
    const inner = axes[0];
    if (inner?.plain && a.plain && a.srcStride === inner.srcStride * inner.n && a.dstStride === inner.dstStride * inner.n && a.idxStride === inner.idxStride * inner.n) {
      inner.n *= a.n;
    } else {
      axes.unshift({ ...a });
    }
  }
  return { ...copy, srcBase, axes: axes.map(({ plain: _, ...a }) => a) };
}

/** The program for one copy, or none when its iteration space is empty. */
export function stridedProgram(original: StridedCopy): LayoutProgram[] {
  const count = sizeOf(original.axes.map((a) => a.n));
  if (count === 0) return [];
  const copy = simplify(original);
  const elem = wgslType(copy.dtype);
  const rank = copy.axes.length;
  const contiguous = stridesOf(copy.axes.map((a) => a.n));
  const fillBits = new Params();
  if (elem === 'f32') fillBits.f32s(copy.fill ?? 0);
  else fillBits.i32s(copy.fill ?? 0);
  const params = new Params()
    .u32s(count)
    .i32s(copy.srcBase ?? 0)
    .u32s(copy.dstBase ?? 0, fillBits.pack()[0]!, copy.gather?.dim ?? 0, copy.gather?.stride ?? 0, rank, BOUNDS[copy.bound ?? 'none'].code)
    .u32s(...copy.axes.map((a) => a.n))
    .i32s(...copy.axes.map((a) => a.start ?? 0))
    .i32s(...copy.axes.map((a) => a.step ?? 1))
    .i32s(...copy.axes.map((a) => a.srcDim ?? a.n))
    .i32s(...copy.axes.map((a) => a.srcStride))
    .u32s(...copy.axes.map((a, d) => a.dstStride ?? contiguous[d]!))
    .u32s(...copy.axes.map((a) => a.idxStride ?? 0));
  const out = copy.gather ? 2 : 1;
  const code = template
    .replaceAll('{{ELEM}}', elem)
    .replace('{{INDEX_DECL}}', copy.gather ? '@group(0) @binding(1) var<storage, read> idx: array<i32>;' : '')
    .replace('{{OUT_BINDING}}', String(out))
    .replace('{{PARAMS}}', paramsDecl(out + 1, params.length))
    .replace('{{RANK}}', String(rank))
    .replace('{{BOUND}}', BOUNDS[copy.bound ?? 'none'].wgsl)
    // An index outside [-dim, dim) is undefined in ONNX; clamping keeps the read inside the source.
    .replace('{{INDEX_USE}}', copy.gather ? 'var g = idx[j];\n  if (g < 0) { g += p_i(4u); }\n  s += clamp(g, 0, p_i(4u) - 1) * p_i(5u);' : '');
  return [{
    code,
    workgroups: dispatch1d(count, 256),
    bindings: [{ input: copy.src }, ...(copy.gather ? [{ input: copy.gather.input }] : []), { output: copy.dst }],
    uniforms: params.pack(),
    cpuFn: copy.gather ? 'strided_gather' : 'strided_copy',
  }];
}

/**
 * Writes `value` to every element of output `dst`: the fill rule over an empty source axis. `src`
 * is any input of the node (never read, but the kernel's layout binds one).
 */
export function fillProgram(dtype: DType, count: number, value: number, src: number, dst: number): LayoutProgram[] {
  return stridedProgram({ dtype, src, dst, axes: [{ n: count, srcDim: 0, srcStride: 0 }], bound: 'fill', fill: value });
}
