// Q4MatMul, int8 activations, for M < 4 (the batch-1 GEMV int4 is for): one row per gid.y and 4
// output channels per invocation. Per group: two vec4u of the quantized row (32 int8), four
// channels' nibbles turned into int8 words (q4-i8-common.wgsl), 8 dot4x4 calls (32 four-value
// dots) into one vec4i of acc_g, then the float step with the 4 groups' scales. The 32 int8 of A
// are loaded once for 4 channels. Workgroups 16 wide along N, as qgemv.wgsl (SwiftShader runs a
// workgroup on one thread, so a 256-channel layer still spreads over 4 of them).
//
// Prefix from kernels/int4/gpu.ts: see q4-i8-common.wgsl.

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let N = p_u(1u);
  let G = p_u(2u);
  let n0 = gid.x * 4u;
  let m = gid.y;
  if (n0 >= N) { return; }
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u));

  var t = vec4f(0.0);
  for (var g = 0u; g < G; g++) {
    let a0 = aq[(m * G + g) * 2u];
    let a1 = aq[(m * G + g) * 2u + 1u];
    let w0 = group_bytes(ns.x, g);
    let w1 = group_bytes(ns.y, g);
    let w2 = group_bytes(ns.z, g);
    let w3 = group_bytes(ns.w, g);
    let acc = dot4x4(a0.x, w0.lo.x, w1.lo.x, w2.lo.x, w3.lo.x) + dot4x4(a0.y, w0.lo.y, w1.lo.y, w2.lo.y, w3.lo.y)
      + dot4x4(a0.z, w0.lo.z, w1.lo.z, w2.lo.z, w3.lo.z) + dot4x4(a0.w, w0.lo.w, w1.lo.w, w2.lo.w, w3.lo.w)
      + dot4x4(a1.x, w0.hi.x, w1.hi.x, w2.hi.x, w3.hi.x) + dot4x4(a1.y, w0.hi.y, w1.hi.y, w2.hi.y, w3.hi.y)
      + dot4x4(a1.z, w0.hi.z, w1.hi.z, w2.hi.z, w3.hi.z) + dot4x4(a1.w, w0.hi.w, w1.hi.w, w2.hi.w, w3.hi.w);
    t += vec4f(acc) * group_scales(ns, g);
  }
  store4(t, m, n0);
}
