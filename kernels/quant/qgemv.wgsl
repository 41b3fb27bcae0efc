// int8 W8A8 matrix-vector product for M < 4 (batch-1 inference): the same problem and epilogue as
// qgemm.wgsl, one row per gid.y and 4 consecutive output channels per invocation, but W K-major:
// wq[g][KW][NP] words (word kw of channel c at (g KW + kw) NP + c, NP = N rounded up to 4; gpu.ts
// gpuWeights lays it out at load), read as vec4s of 4 channels. Per step: one vec4 of A (16 values,
// the same for every lane) and four of W for 16 four-value products (dot4x4). The kernel is bound
// by streaming W, which every invocation reads once, and K-major the lanes of a workgroup read
// one contiguous run per word (coalesced on a GPU) where row-major W had each lane read its own
// row. On SwiftShader, which loads per lane either way, the two layouts measured the same here
// (qgemm.wgsl, which shares the layout, gained a few percent). Workgroups are 16 wide along N so
// a 256-channel layer still spreads over 4 workgroups (SwiftShader runs each workgroup on one
// thread).
//
// Prefix from kernels/quant/gpu.ts: see qgemm-common.wgsl (p_u(2u), KV, counts vec4s of A per row).

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let N = p_u(1u);
  let KV = p_u(2u);
  let group = p_u(3u);
  let n0 = gid.x * 4u;
  let m = gid.y;
  if (n0 >= N) { return; }
  let b = gid.z / group;
  let g = gid.z % group;
  let rowA = gid.z * p_u(8u) + m * KV;
  // vec4s of W per K word: NP / 4.
  let NV = (N + 3u) / 4u;
  var w = g * 4u * KV * NV + gid.x;

  var acc = vec4i(0);
  for (var kv = 0u; kv < KV; kv++) {
    let a = aq[rowA + kv];
    let w0 = wq[w];
    let w1 = wq[w + NV];
    let w2 = wq[w + 2u * NV];
    let w3 = wq[w + 3u * NV];
    acc += dot4x4(a.x, w0.x, w0.y, w0.z, w0.w) + dot4x4(a.y, w1.x, w1.y, w1.z, w1.w)
      + dot4x4(a.z, w2.x, w2.y, w2.z, w2.w) + dot4x4(a.w, w3.x, w3.y, w3.z, w3.w);
    w += 4u * NV;
  }
  store_row(acc, m, n0, b, g);
}
