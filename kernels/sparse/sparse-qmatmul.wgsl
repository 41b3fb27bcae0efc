// SparseQMatMul on WebGPU: int8 W8A8 with 2:4 structured sparse weights, read in the bundle's
// layout (docs/compressed-formats.md),
//   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32)
//   out[m][n] = activation(f32(acc) * (s_m * wscale[n]) + bias[n])
//
// Layout. aq: A quantized by QMatMul's pre-pass (quantize-rows.wgsl) into packed int8 rows of IW*8
// words (32 values per index word; zeros past K), so word g of a row is group g's 4 values.
// values: [N][IW] vec4<u32> (rows padded at load to whole index words with zero values): word t of
// a vec4 holds groups 2t and 2t+1, the 8 bits at 8t of the index word are their two codes.
// indices: [N][IW] u32.
//
// Per value word, gather_dot (spliced in by kernels/sparse/gpu.ts) picks the 4 kept A bytes out of
// the two groups' A words by the 2-bit indices and takes one 4-way int8 dot with the word: 8 dense
// positions per dot, half the dots of dense int8 for the same K.
//
// One row of A and 4 output channels per invocation, workgroups 16 wide along N (SwiftShader runs
// a workgroup on one thread, so a 256-channel layer still spreads over 4). The A words of one
// index word are loaded once for the 4 channels.
//
// Prefix from gpu.ts: bindings aq, values (vec4<u32>), indices (u32), wscale, bias, out (f32),
// params (0 M, 1 N, 2 IW), fn row_scale(m) -> f32, fn activation, fn gather_dot.

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let IW = p_u(2u);
  let n0 = gid.x * 4u;
  let m = gid.y;
  if (n0 >= N || m >= M) { return; }
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u));

  var acc = vec4i(0);
  for (var j = 0u; j < IW; j++) {
    let a = aq[(m * IW + j) * 2u];
    let b = aq[(m * IW + j) * 2u + 1u];
    for (var c = 0u; c < 4u; c++) {
      let at = ns[c] * IW + j;
      let idx = indices[at];
      let v = values[at];
      acc[c] += gather_dot(a.x, a.y, idx & 0xffu, v.x) + gather_dot(a.z, a.w, (idx >> 8u) & 0xffu, v.y)
        + gather_dot(b.x, b.y, (idx >> 16u) & 0xffu, v.z) + gather_dot(b.z, b.w, idx >> 24u, v.w);
    }
  }

  let s = row_scale(m);
  for (var c = 0u; c < 4u; c++) {
    let n = n0 + c;
    if (n >= N) { return; }
    out[m * N + n] = activation(f32(acc[c]) * (s * wscale[n]) + bias[n]);
  }
}
