// SparseQMatMul on WebGPU for M <= 64 (batch-1 inference, small batches): int8 W8A8 with 2:4
// structured sparse weights, the same sums and epilogue as sparse-qmatmul.wgsl,
//   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32).
//
// Layout. tab: kept-table.wgsl's output, per row 4 * IW spans of 36 packed words (span w, entry
// e = the 4 activations value word w meets when its two groups keep pairs e % 6 and e / 6).
// values: [4 IW][N] u32, the bundle's value words K-major (word w of channel n at w N + n; zero
// past the row's ceil(K/8)), word w holding the kept int8 values of groups 2w, 2w+1. pairs:
// [IW][N] u32 from the bundle's indices, byte t of (j, n) = entry e of value word 4j + t. Both
// re-laid by gpu.ts at load. K-major because an emulated adapter (SwiftShader) loads 4 lanes'
// words in one go only when they are consecutive; the table loads, indexed by data, are gathers.
//
// Per value word: one table load by its byte and one dot4 (8 dense positions), against dense
// int8's two weight words and two dots; no per-weight byte picking, which on SwiftShader cost as
// much as the multiplies it saved. Weights are read once, at 0.625 bytes per dense weight.
//
// 4 output channels per invocation, n = 64 wid.x + lid + 16 c (c = 0..3, so each of the 4 loads
// of a value word is consecutive across lanes), one row per wid.y; workgroups of 16 (SwiftShader
// runs a workgroup on one thread, so a 256-channel layer still spreads over 4), as qgemv.wgsl.
// Channels past N are clamped for loading and skipped at the store.
//
// Prefix from gpu.ts: bindings tab (u32), values (u32), pairs (u32), wscale, bias, out,
// params (0 M, 1 N, 2 IW), fn dot4(a, w) -> i32, fn store.

/** Channel n's dot over index word j, whose table words start at t0. */
fn word_dot(t0: u32, j: u32, n: u32, N: u32) -> i32 {
  let e = pairs[j * N + n];
  let v = 4u * j * N + n;
  return dot4(tab[t0 + (e & 0xffu)], values[v]) + dot4(tab[t0 + 36u + ((e >> 8u) & 0xffu)], values[v + N])
    + dot4(tab[t0 + 72u + ((e >> 16u) & 0xffu)], values[v + 2u * N]) + dot4(tab[t0 + 108u + (e >> 24u)], values[v + 3u * N]);
}

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let N = p_u(1u);
  let IW = p_u(2u);
  let ns = min(vec4u(wid.x * 64u + lid) + vec4u(0u, 16u, 32u, 48u), vec4u(N - 1u));
  let m = wid.y;
  let row = m * IW * 144u;

  var acc = vec4i(0);
  for (var j = 0u; j < IW; j++) {
    let t0 = row + 144u * j;
    acc += vec4i(word_dot(t0, j, ns.x, N), word_dot(t0, j, ns.y, N), word_dot(t0, j, ns.z, N), word_dot(t0, j, ns.w, N));
  }
  let n = wid.x * 64u + lid;
  store(acc.x, m, n);
  store(acc.y, m, n + 16u);
  store(acc.z, m, n + 32u);
  store(acc.w, m, n + 48u);
}
