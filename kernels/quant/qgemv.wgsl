// int8 W8A8 matrix-vector product for M < 4 (batch-1 inference): the same problem, layouts and
// epilogue as qgemm.wgsl, one row per gid.y and 4 output channels per invocation. Per step: one
// vec4 of A and four of W for 16 four-value products (dot4x4); the kernel is bound by streaming W, which every
// invocation reads once. Workgroups are 16 wide along N so a 256-channel layer still spreads over
// 4 workgroups (SwiftShader runs each workgroup on one thread).
//
// Prefix from kernels/quant/gpu.ts: see qgemm-common.wgsl.

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
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u));
  let rowA = gid.z * p_u(8u) + m * KV;
  let rowW = (vec4u(g * N) + ns) * KV;

  var acc = vec4i(0);
  for (var kv = 0u; kv < KV; kv++) {
    let a = aq[rowA + kv];
    let w0 = wq[rowW.x + kv];
    let w1 = wq[rowW.y + kv];
    let w2 = wq[rowW.z + kv];
    let w3 = wq[rowW.w + kv];
    acc += dot4x4(a.x, w0.x, w1.x, w2.x, w3.x) + dot4x4(a.y, w0.y, w1.y, w2.y, w3.y)
      + dot4x4(a.z, w0.z, w1.z, w2.z, w3.z) + dot4x4(a.w, w0.w, w1.w, w2.w, w3.w);
  }
  store_row(acc, m, n0, b, g);
}
