// Softmax / LogSoftmax along one axis, in ONE dispatch: a segment of lanes owns a row and makes
// three passes over it — max (for the max-subtraction that keeps exp from overflowing), the sum of
// exp(x − max), then the write. The two row-wide values are combined with shared-memory trees.
// The max propagates NaN (max_nan), and a NaN max makes the whole row NaN, as in the reference.
//
// Layout: x viewed as [outer, D, inner] (inner = 1 for the 2-D coercion of opset < 13, the
// product of the axes after `axis` from opset 13). Row m = (m / inner, ·, m % inner); its
// elements sit `inner` apart, so lanes of a segment read neighbours when inner = 1 and adjacent
// rows read neighbours when inner > 1.
//
// Workgroup: ROW_WG invocations, `lanes` per row (uniform, a power of two): whole workgroup per
// long row, one invocation per short row.
//
// Prepended by softmax.ts: params (p_u), ROW_WG, row_of, is_nan / max_nan (wgsl.ts NAN_FNS),
// segment_max, segment_sum, and `softmax_out(shifted, sum)`, which makes this Softmax or LogSoftmax.
//
// Params: [0] rows (outer · inner), [1] D, [2] inner, [3] lanes.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(ROW_WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lanes = p_u(3u);
  let row = row_of(lid, wid, nwg, lanes);
  let n = select(0u, p_u(1u), row < p_u(0u));
  let inner = p_u(2u);
  let base = (row / inner) * p_u(1u) * inner + row % inner;
  let first = lid % lanes;

  var m = -3.4028234e38;
  for (var d = first; d < n; d += lanes) { m = max_nan(m, x[base + d * inner]); }
  m = segment_max(m, lid, lanes);

  var s = 0.0;
  for (var d = first; d < n; d += lanes) { s += exp(x[base + d * inner] - m); }
  s = segment_sum(s, lid, lanes);

  // NaN rows are found on the bits once per row: exp(NaN) need not be NaN in WGSL.
  let row_nan = is_nan(m);
  for (var d = first; d < n; d += lanes) {
    let i = base + d * inner;
    y[i] = select(softmax_out(x[i] - m, s), m, row_nan);
  }
}
