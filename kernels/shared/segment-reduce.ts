/**
 * Segmented workgroup reduction, shared by the row kernels (Reduce*, ArgMax/Min, Global*Pool,
 * Softmax, LayerNormalization, InstanceNormalization).
 *
 * A workgroup of ROW_WG invocations is cut into segments of `lanes` consecutive invocations (a power
 * of two dividing ROW_WG); each segment owns one row. Lane j of a row folds elements j, j + lanes,
 * j + 2·lanes, … (adjacent lanes read adjacent elements), then the segment combines its partials
 * with a shared-memory tree. `lanes` is a uniform, so one pipeline covers both regimes:
 * long rows (lanes = ROW_WG: the whole workgroup on one row) and short rows (lanes = 1: one
 * invocation per row, no tree steps at all), and every size between.
 */

/** Invocations per workgroup of the row kernels: 64 fills a wave on every desktop GPU and keeps
 * barrier cost low on CPU-emulated adapters, where a workgroup's invocations run on one core. */
export const ROW_WG = 64;

/** Elements each lane should fold before adding lanes pays off (tree steps cost a barrier each). */
const ELEMENTS_PER_LANE = 16;

/**
 * Invocations in flight that the lane choice aims for. Lanes beyond what filling the device needs
 * only add barriers, and barriers are what CPU-emulated adapters pay for most: on SwiftShader
 * (2 cores) 4096 rows × 64 elements took 92 ms with 1 lane per row and 2 s with 64, while 8 rows
 * × 4096 ran fastest with 16–64 lanes. 2048 keeps many-row cases at one lane there and still
 * gives few long rows whole workgroups, which is what discrete GPUs need.
 */
const TARGET_INVOCATIONS = 2048;

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
