// SparseQMatMul's activation pre-pass for M <= 64 (sparse-qgemv.wgsl): quantizes A (float [M, K], K
// contiguous) as quantize-rows.wgsl does, and tabulates, per row m and span of 8 values (the two
// groups one value word covers), the 4 activations every pair of 2:4 codes keeps, packed like a
// value word (k ascending from the low byte, q = 0 past K):
//   tab[m][w][p0 + 6 p1] = q[8w + i0(p0)] | q[8w + i1(p0)] << 8 | q[8w + 4 + i0(p1)] << 16 | q[8w + 4 + i1(p1)] << 24
// where p0, p1 rank the groups' (i0, i1) pairs in PAIRS order (sparse24.ts): (0,1) (0,2) (0,3)
// (1,2) (1,3) (2,3). 36 words per span, 4.5 per activation. The GEMV then meets a value word with
// one load by its pair-of-pairs number (gpu.ts re-lays the indices so) and one 4-way dot, where
// picking the kept bytes per weight cost as much as the halved multiplies save; the CPU kernel
// tabulates the 6 pairs per group for the same reason (sparse-qmatmul.c).
//
// One invocation per span: it quantizes the span's 8 values once and writes its 36 words, the 6
// pairs of the first group (low halves) or-ed with each of the second's (high halves). One per
// table word instead would quantize every value 18 times and divide its index three ways, which
// made this pass cost a third of the GEMV on SwiftShader.
//
// Prefix from kernels/quant/gpu.ts: bindings x (f32), aq (u32, read_write: the table), [scales],
// params (0 K, 1 spans per row, 2 spans in all, 3 static inv), fn act_inv(row), quantize-common.wgsl and row-value.wgsl.

/** The 6 pairs of a group's 4 bytes (in PAIRS order), 16 bits each: 4 in a vec4, 2 in a vec2. */
struct Pairs { a: vec4u, b: vec2u }

fn pairs_of(q: vec4u) -> Pairs {
  return Pairs(q.xxxy | (q.yzwz << vec4u(8u)), q.yz | (q.ww << vec2u(8u)));
}

/** Words p0 + 6 p1 for p0 = 0..5 of one p1: the first group's pairs under the second's pair `high`. */
fn store6(o: u32, p: Pairs, high: u32) {
  let w = high << 16u;
  aq[o] = p.a.x | w;
  aq[o + 1u] = p.a.y | w;
  aq[o + 2u] = p.a.z | w;
  aq[o + 3u] = p.a.w | w;
  aq[o + 4u] = p.b.x | w;
  aq[o + 5u] = p.b.y | w;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(2u)) { return; }
  let K = p_u(0u);
  let m = i / p_u(1u);
  let k0 = (i % p_u(1u)) * 8u;
  let base = m * K;
  let inv = act_inv(m);
  let lo = bitcast<vec4u>(vec4i(row_value(base, k0, K, inv), row_value(base, k0 + 1u, K, inv), row_value(base, k0 + 2u, K, inv), row_value(base, k0 + 3u, K, inv))) & vec4u(0xffu);
  let hi = bitcast<vec4u>(vec4i(row_value(base, k0 + 4u, K, inv), row_value(base, k0 + 5u, K, inv), row_value(base, k0 + 6u, K, inv), row_value(base, k0 + 7u, K, inv))) & vec4u(0xffu);
  let p = pairs_of(lo);
  let h = pairs_of(hi);
  let at = i * 36u;
  store6(at, p, h.a.x);
  store6(at + 6u, p, h.a.y);
  store6(at + 12u, p, h.a.z);
  store6(at + 18u, p, h.a.w);
  store6(at + 24u, p, h.b.x);
  store6(at + 30u, p, h.b.y);
}
