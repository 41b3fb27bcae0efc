// Row normalisation for LayerNormalization and InstanceNormalization, in ONE dispatch:
//   y = (x − mean) · rsqrt(var + ε) · scale[s] + bias[b]
// with mean and variance over each row, computed in two passes (mean first, then the mean of
// squared deviations), which stays accurate in f32 where E[x²] − E[x]² would cancel.
//
// Layout: rows are contiguous runs of D elements (LayerNorm: the axes from `axis` on; Instance:
// the spatial axes of one (n, c)). The scale/bias element is (row % rowMod) + (d % elemMod):
// LayerNorm broadcasts over rows (rowMod 1, elemMod = its size), InstanceNorm picks the channel
// (rowMod = C, elemMod 1).
//
// Workgroup: ROW_WG invocations, `lanes` per row (uniform, a power of two): whole workgroup per
// long row, one invocation per short row.
//
// Prepended by layernorm.ts: the bindings (x, scale, optional bias, y, optional Mean/InvStdDev
// outputs), `bias_at`, `write_stats`, params (p_u, p_f), ROW_WG, row_of, segment_sum.
//
// Params: [0] rows, [1] D, [2] lanes, [3] ε (f32), [4] scale rowMod, [5] scale elemMod,
//         [6] bias rowMod, [7] bias elemMod, [8] flags (read only by the C twin layernorm.c).

@compute @workgroup_size(ROW_WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lanes = p_u(2u);
  let row = row_of(lid, wid, nwg, lanes);
  let valid = row < p_u(0u);
  let D = p_u(1u);
  let n = select(0u, D, valid);
  let base = row * D;
  let first = lid % lanes;

  var s = 0.0;
  for (var d = first; d < n; d += lanes) { s += x[base + d]; }
  let mean = segment_sum(s, lid, lanes) / f32(D);

  var q = 0.0;
  for (var d = first; d < n; d += lanes) {
    let c = x[base + d] - mean;
    q += c * c;
  }
  let rstd = inverseSqrt(segment_sum(q, lid, lanes) / f32(D) + p_f(3u));

  let scale_row = row % p_u(4u);
  let bias_row = row % p_u(6u);
  for (var d = first; d < n; d += lanes) {
    let g = scale[scale_row + d % p_u(5u)];
    y[base + d] = (x[base + d] - mean) * rstd * g + bias_at(bias_row + d % p_u(7u));
  }
  if (valid && first == 0u) { write_stats(row, mean, rstd); }
}
