// Reduction of rows: y[row] = acc_final(fold of x over the row's elements).
//
// Layout: the input is viewed as kept axes × reduced axes after coalescing (size-1 axes dropped,
// neighbouring axes of the same kind merged), so "reduce the last axis" is rows of contiguous
// elements and "reduce H, W of NCHW" is one contiguous block per (n, c). Each row's base offset
// comes from the kept dims/strides; an element's offset within the row from the reduced
// dims/strides, with a multiply-only fast path when one reduced group remains (the usual case).
//
// Workgroup: ROW_WG invocations cut into segments of `lanes` (a uniform, power of two); a segment
// owns a row, its lanes fold interleaved elements and combine them with a shared-memory tree
// (segment_merge). Long rows get the whole workgroup, short rows one invocation each, so neither
// the few-long-rows nor the many-short-rows case leaves the GPU idle.
//
// Prepended by reduce-program.ts: T, Acc, O, acc_* (reducers.ts), params (p_u), ROW_WG, row_of,
// segment_merge, and the PARAM_* offsets below.
//
// Params: [0] rows, [1] row length, [2] lanes, [3] kept groups, [4] reduced groups, [5–7] read
//         only by the C twin reduce.c, [PARAM_KEPT_DIMS…], [PARAM_KEPT_STRIDES…], [PARAM_RED_DIMS…], [PARAM_RED_STRIDES…].

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> y: array<O>;

fn row_base(row: u32) -> u32 {
  var rem = row;
  var off = 0u;
  for (var d = i32(p_u(3u)) - 1; d >= 0; d--) {
    let dim = p_u(PARAM_KEPT_DIMS + u32(d));
    off += (rem % dim) * p_u(PARAM_KEPT_STRIDES + u32(d));
    rem = rem / dim;
  }
  return off;
}

fn element_offset(r: u32) -> u32 {
  let groups = p_u(4u);
  if (groups == 1u) { return r * p_u(PARAM_RED_STRIDES); }
  var rem = r;
  var off = 0u;
  for (var d = i32(groups) - 1; d >= 0; d--) {
    let dim = p_u(PARAM_RED_DIMS + u32(d));
    off += (rem % dim) * p_u(PARAM_RED_STRIDES + u32(d));
    rem = rem / dim;
  }
  return off;
}

@compute @workgroup_size(ROW_WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lanes = p_u(2u);
  let row = row_of(lid, wid, nwg, lanes);
  let valid = row < p_u(0u);
  let n = select(0u, p_u(1u), valid);
  let base = row_base(row);
  var acc = acc_init();
  for (var r = lid % lanes; r < n; r += lanes) {
    acc = acc_step(acc, x[base + element_offset(r)], r);
  }
  acc = segment_merge(acc, lid, lanes);
  if (valid && lid % lanes == 0u) {
    y[row] = acc_final(acc, p_u(1u));
  }
}
