// int8 W8A8 matrix-vector product for M < 4 (batch-1 inference): the same problem, layouts and
// epilogue as qgemm.wgsl, one row per gid.y and 4 output channels per invocation. Per step: one
// vec4 of A and four of W for 16 dot4; the kernel is bound by streaming W, which every
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
    acc += vec4i(dot16(a, wq[rowW.x + kv]), dot16(a, wq[rowW.y + kv]), dot16(a, wq[rowW.z + kv]), dot16(a, wq[rowW.w + kv]));
  }
  store_row(acc, m, n0, b, g);
}
