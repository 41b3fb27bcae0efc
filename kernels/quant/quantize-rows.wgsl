// QMatMul's pre-pass: quantizes A (float [M, K], K contiguous) into packed int8 rows
// aq[m][KW] (u32, KW = ceil(K/16) * 4 words, so the GEMM reads whole vec4s; k past K packs as 0).
//
// One invocation per output word (4 values), flat over a 1-D grid of 64-wide workgroups: the pass
// is a few hundred to a few thousand words, tiny next to the GEMM, and needs no cooperation.
//
// Prefix from kernels/quant/gpu.ts: bindings x (f32), aq (u32, read_write), [scales], params
// (0 K, 1 KW, 2 total words, 3 static inv), fn act_inv(row), quantize-common.wgsl and row-value.wgsl.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(2u)) { return; }
  let K = p_u(0u);
  let KW = p_u(1u);
  let m = i / KW;
  let k0 = (i % KW) * 4u;
  let base = m * K;
  let inv = act_inv(m);
  aq[i] = pack4(vec4i(row_value(base, k0, K, inv), row_value(base, k0 + 1u, K, inv), row_value(base, k0 + 2u, K, inv), row_value(base, k0 + 3u, K, inv)));
}
