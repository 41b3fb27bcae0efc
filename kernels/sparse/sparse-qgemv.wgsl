// SparseQMatMul on WebGPU for M < 4 (batch-1 inference): int8 W8A8 with 2:4 structured sparse
// weights in the bundle's layout, the same sums and epilogue as sparse-qmatmul.wgsl,
//   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32).
//
// Layout. tab: pair-table.wgsl's output, per row G = 8 * IW groups of 16 i32 words, word c of group
// g = a0 + a1 * 2^16, the row's quantized values at the two positions code c keeps. values:
// [N][IW] vec4<u32> (rows padded to whole index words), word t holding the kept int8 pairs of
// groups 2t, 2t+1 (lower index first), whose codes are the 8 bits at 8t of indices [N][IW] u32.
//
// Per group: one table load by the group's code, then one 32-bit multiplication for both of its
// products (pair_dot). No byte picking per weight and no dot4I8Packed: on an emulated adapter
// (SwiftShader) dot4I8Packed is a sequence of shifts and multiplies, and the pick before it cost
// as much as the halved multiplies saved; batch-1 GEMV on a hardware GPU is bound by streaming
// the weights, which this reads once at 0.625 bytes per dense weight as before.
//
// 4 output channels per invocation, one row per gid.y, workgroups 16 wide along N (SwiftShader
// runs a workgroup on one thread, so a 256-channel layer still spreads over 4), as qgemv.wgsl.
//
// Prefix from gpu.ts: bindings tab (i32), values (vec4<u32>), indices (u32), wscale, bias, out,
// params (0 M, 1 N, 2 IW), fn store_row.

/**
 * a0 w0 + a1 w1 from t = a0 + a1 * 2^16 and u = w0 * 2^16 + w1 (all int8 in [-127, 127]): t * u
 * is a1 w0 * 2^32 (wrapped away) + (a0 w0 + a1 w1) * 2^16 + a0 w1. The sum is under 2^15 in
 * magnitude, so it fits the top half of an i32 exactly; |a0 w1| < 2^15, so adding 2^15 keeps the
 * low half in [0, 2^16) and the arithmetic shift drops it.
 */
fn pair_dot(t: i32, u: i32) -> i32 {
  return (t * u + 32768) >> 16u;
}

/** Group g (0..7) of index word `codes`, whose table words start at t0, against weight pair u. */
fn group_dot(t0: u32, codes: u32, g: u32, u: i32) -> i32 {
  return pair_dot(tab[t0 + 16u * g + ((codes >> (4u * g)) & 15u)], u);
}

/** Value word t (0..3) of an index word: bytes 0, 1 are group 2t's pair, 2, 3 group 2t+1's. */
fn word_dot(t0: u32, codes: u32, t: u32, v: u32) -> i32 {
  let s = bitcast<i32>(v);
  return group_dot(t0, codes, 2u * t, ((s << 24u) >> 8u) + ((s << 16u) >> 24u))
    + group_dot(t0, codes, 2u * t + 1u, (((s << 8u) >> 8u) & -65536) + (s >> 24u));
}

fn channel_dot(t0: u32, at: u32) -> i32 {
  let codes = indices[at];
  let v = values[at];
  return word_dot(t0, codes, 0u, v.x) + word_dot(t0, codes, 1u, v.y) + word_dot(t0, codes, 2u, v.z) + word_dot(t0, codes, 3u, v.w);
}

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let N = p_u(1u);
  let IW = p_u(2u);
  let n0 = gid.x * 4u;
  let m = gid.y;
  if (n0 >= N) { return; }
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u)) * IW;
  let row = m * IW * 128u;

  var acc = vec4i(0);
  for (var j = 0u; j < IW; j++) {
    let t0 = row + 128u * j;
    acc += vec4i(channel_dot(t0, ns.x + j), channel_dot(t0, ns.y + j), channel_dot(t0, ns.z + j), channel_dot(t0, ns.w + j));
  }
  store_row(acc, m, n0);
}
