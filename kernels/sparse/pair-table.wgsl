// SparseQMatMul's activation pre-pass for M < 4 (sparse-qgemv.wgsl): quantizes A (float [M, K], K
// contiguous) as quantize-rows.wgsl does, and tabulates for every row m, group g of 4 values and
// 4-bit index code c = i0 | i1 << 2 the pair of A values a 2:4 weight group with that code meets,
//   tab[m][g][c] = q[m][4g + i0] + q[m][4g + i1] * 65536   (i32; q = 0 past K),
// G = 8 * index words groups per row, 16 words per group. Only 6 codes are valid 2:4 pairs; the
// other 10 words are filled by the same formula and never read. The GEMV then takes a group's
// kept activations with one load by its code instead of picking bytes per weight, as the CPU
// kernel does with its per-group table of the 6 pairs (sparse-qmatmul.c).
//
// One invocation per table word, flat over 64-wide workgroups (consecutive invocations write
// consecutive words): M * K * 4 words, a few thousand, small next to the GEMV's N * K / 2 weights.
//
// Prefix from kernels/quant/gpu.ts: bindings x (f32), aq (u32, read_write: the table), [scales],
// params (0 K, 1 G, 2 total words, 3 static inv), fn act_inv(row), and quantize-common.wgsl.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(2u)) { return; }
  let K = p_u(0u);
  let G = p_u(1u);
  let m = i / (16u * G);
  let k0 = ((i / 16u) % G) * 4u;
  let c = i % 16u;
  let base = m * K;
  let inv = act_inv(m);
  aq[i] = bitcast<u32>(row_value(base, k0 + (c & 3u), K, inv) + row_value(base, k0 + (c >> 2u), K, inv) * 65536);
}
