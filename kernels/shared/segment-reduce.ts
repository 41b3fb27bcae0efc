/**
 * Segmented workgroup reduction, shared by the row kernels (Reduce*, ArgMax/Min, Global*Pool,
 * Softmax, LayerNormalization, InstanceNormalization).
 *
 * A workgroup of ROW_WG invocations is cut into segments of `lanes` consecutive invocations (a power
 * of two dividing ROW_WG); each segment owns one row. Lane j of a row folds elements j, j + lanes,
 * j + 2·lanes, … (adjacent lanes read adjacent elements), then the segment combines its partials
 * with a shared-memory tree. `lanes` is a uniform, so one pipeline covers every multi-lane case
 * up to long rows (lanes = ROW_WG: the whole workgroup on one row); short rows (lanes = 1: one
 * invocation per row) get a second variant with no workgroup memory and no barriers.
 */

import { dispatch1d } from '../wgsl.js';

/** Invocations per workgroup of the row kernels: 64 fills a wave on every desktop GPU and keeps
 * barrier cost low on CPU-emulated adapters, where a workgroup's invocations run on one core. */
export const ROW_WG = 64;

/** Elements each lane should fold before adding lanes pays off (tree steps cost a barrier each). */
const ELEMENTS_PER_LANE = 16;

/**
 * Invocations in flight that the lane choice aims for. Lanes beyond what filling the device needs
 * only add barriers, and barriers are what CPU-emulated adapters pay for most. Measured on
 * SwiftShader (2 cores, loaded machine), softmax / reduce-sum per dispatch:
 *   4096 rows × 64:   1 lane 27 / 42 ms, 4 lanes 161 / 86 ms, 64 lanes 1336 / 1872 ms
 *   256 rows × 1024:  1 lane 28 / 21 ms, 4 lanes 38 / 31 ms, 64 lanes 198 / 190 ms
 *   8 rows × 4096:    2–5 ms whatever the lanes
 * 1024 keeps many-row cases at one lane there, at a modest cost for mid-sized cases, and still
 * gives few long rows whole workgroups, which is what discrete GPUs need.
 */
const TARGET_INVOCATIONS = 1024;

/**
 * Lanes per row (a power of two ≤ ROW_WG): as many as the device needs to be busy
 * (TARGET_INVOCATIONS over all rows), but no more than give each lane ~ELEMENTS_PER_LANE elements.
 */
export function lanesFor(rowLength: number, rows: number): number {
  let lanes = 1;
  while (lanes < ROW_WG && lanes * ELEMENTS_PER_LANE < rowLength && 2 * lanes * rows <= TARGET_INVOCATIONS) lanes *= 2;
  return lanes;
}

/**
 * WGSL `fn NAME(v: TYPE, lid: u32, lanes: u32) -> TYPE`: the combination of `v` over the segment of
 * `lanes` invocations that contains local invocation `lid`, returned to every lane of the segment.
 * Must be called from uniform control flow with a uniform `lanes` (it holds barriers); `merge`
 * builds the WGSL expression combining two partials.
 *
 * `lanes` is also known on the host: with one lane per row the function is the identity and the
 * shader has no workgroup memory and no barriers. That variant compiles in about half the time on
 * SwiftShader (≈ 230 ms instead of ≈ 500 ms for reduce.wgsl) and runs without the coroutine
 * switches that emulated barriers cost.
 */
export function segmentReduceFn(name: string, type: string, merge: (a: string, b: string) => string, lanes: number): string {
  if (lanes === 1) return `fn ${name}(v: ${type}, lid: u32, lanes: u32) -> ${type} { return v; }\n`;
  const buf = `${name}_buf`;
  return `var<workgroup> ${buf}: array<${type}, ${ROW_WG}>;
fn ${name}(v: ${type}, lid: u32, lanes: u32) -> ${type} {
  ${buf}[lid] = v;
  workgroupBarrier();
  for (var s = lanes / 2u; s > 0u; s = s / 2u) {
    if (lid % lanes < s) { ${buf}[lid] = ${merge(`${buf}[lid]`, `${buf}[lid + s]`)}; }
    workgroupBarrier();
  }
  let r = ${buf}[lid - lid % lanes];
  // A second call may overwrite the buffer only after every lane has read its result.
  workgroupBarrier();
  return r;
}
`;
}

/**
 * WGSL shared by every row kernel: the workgroup size constant (use `@workgroup_size(ROW_WG)`) and
 * `row_of`, which maps an invocation to the row its segment owns. Rows past the end still run
 * (with no elements): every invocation must reach the barriers.
 */
export const ROW_PRELUDE = `const ROW_WG: u32 = ${ROW_WG}u;
fn row_of(lid: u32, wid: vec3u, nwg: vec3u, lanes: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * ROW_WG + lid) / lanes;
}
`;

/** The grid for `rows` rows of `lanes` invocations each (row kernels never straddle workgroups). */
export function rowWorkgroups(rows: number, lanes: number): [number, number, number] {
  return dispatch1d(rows * lanes, ROW_WG);
}
