// int8 W8A8 GEMM, one (batch item, group) per gid.z:
//   acc[m][n] = sum_k aq[z][m][k] * wq[g][n][k]   (exact int32), then store_row's float epilogue.
//
// Layout: aq packed int8 rows [z][M][KV] vec4<u32> (16 int8 values), K contiguous and zero-padded
// to whole vec4s; wq K-major as qgemv.wgsl reads it ([group][4 KV][NP] words, a vec4 = one K word
// of 4 channels), so neither operand needs bounds tests along K and the lanes of a workgroup,
// consecutive column blocks, load W in one contiguous run (coalesced on a GPU; on SwiftShader the
// Fashion-MNIST CNN's two int8 GEMMs took 4-6% less GPU time than with row-major W, medians of
// interleaved runs).
//
// Workgroup 64, flat over (row block, column block) with column blocks fastest, z over (batch
// item, group); each invocation a 4x4 register block (4 rows x 4 output channels), the blocking
// of the fp32 gemm.wgsl, and likewise no shared memory: on SwiftShader a workgroup is one thread
// running SIMD-4 lanes, where barriers are fibre switches. Per step it loads 8 vec4s and issues 64
// products of 4 int8 pairs (256 MACs), one packed word of each row and channel at a time
// (mac4x4); the fp32 kernel gets 16 FMAs from 8 loads. Rows and columns past M/N are
// clamped for loading and skipped at the store. Flat, not an 8x8 grid of blocks: SwiftShader runs
// a workgroup's idle lanes through the whole loop, and with 16 output channels (4 blocks) half of
// an 8-wide grid was idle. qgemv.wgsl takes M < 4, where 3 of 4 rows here would be padding.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let KV = p_u(2u);
  let group = p_u(3u);
  let flat = gid.x + gid.y * nwg.x * 64u;
  let nBlocks = (N + 3u) / 4u;
  let n0 = (flat % nBlocks) * 4u;
  let m0 = (flat / nBlocks) * 4u;
  if (m0 >= M) { return; }
  let b = gid.z / group;
  let g = gid.z % group;
  let ms = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(M - 1u));
  let rowA = vec4u(gid.z * p_u(8u)) + ms * KV;
  // W K-major as in qgemv.wgsl: NV vec4s (4 channels each) per K word.
  let NV = (N + 3u) / 4u;
  var w = g * 4u * KV * NV + n0 / 4u;

  var acc0 = vec4i(0);
  var acc1 = vec4i(0);
  var acc2 = vec4i(0);
  var acc3 = vec4i(0);
  for (var kv = 0u; kv < KV; kv++) {
    let a0 = aq[rowA.x + kv];
    let a1 = aq[rowA.y + kv];
    let a2 = aq[rowA.z + kv];
    let a3 = aq[rowA.w + kv];
    mac4x4(vec4u(a0.x, a1.x, a2.x, a3.x), wq[w], &acc0, &acc1, &acc2, &acc3);
    mac4x4(vec4u(a0.y, a1.y, a2.y, a3.y), wq[w + NV], &acc0, &acc1, &acc2, &acc3);
    mac4x4(vec4u(a0.z, a1.z, a2.z, a3.z), wq[w + 2u * NV], &acc0, &acc1, &acc2, &acc3);
    mac4x4(vec4u(a0.w, a1.w, a2.w, a3.w), wq[w + 3u * NV], &acc0, &acc1, &acc2, &acc3);
    w += 4u * NV;
  }
  if (POOL2X2) {
    store_pooled(acc0, acc1, acc2, acc3, m0, n0, b, g);
    return;
  }
  store_row(acc0, m0, n0, b, g);
  store_row(acc1, m0 + 1u, n0, b, g);
  store_row(acc2, m0 + 2u, n0, b, g);
  store_row(acc3, m0 + 3u, n0, b, g);
}
