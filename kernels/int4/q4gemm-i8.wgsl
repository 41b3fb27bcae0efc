// Q4MatMul, int8 activations, for M >= 4: a 4x4 register block (4 rows x 4 output channels) per
// invocation, workgroups 8x8, as kernels/quant/qgemm.wgsl and for the same reason (no shared
// memory: barriers are fibre switches on SwiftShader). Per group the 4 channels' nibbles are
// turned into int8 words once (q4-i8-common.wgsl) and serve 4 rows: 8 mac4x4 calls (one per word
// position, 64 four-value dots) accumulate acc_g for the 16 outputs, then each row's f32 sum takes
// the 4 groups' scales. Rows are clamped for loading and skipped at the store; row blocks run over
// y and z, so M is not capped by the 65535-workgroup limit.
//
// Prefix from kernels/int4/gpu.ts: see q4-i8-common.wgsl.

fn row_words(m: u32, g: u32) -> GroupBytes {
  let i = (m * p_u(2u) + g) * 2u;
  return GroupBytes(aq[i], aq[i + 1u]);
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let G = p_u(2u);
  let n0 = gid.x * 4u;
  let m0 = (gid.y + gid.z * nwg.y * 8u) * 4u;
  if (n0 >= N || m0 >= M) { return; }
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u));
  let ms = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(M - 1u));

  var t0 = vec4f(0.0);
  var t1 = vec4f(0.0);
  var t2 = vec4f(0.0);
  var t3 = vec4f(0.0);
  for (var g = 0u; g < G; g++) {
    let w0 = group_bytes(ns.x, g);
    let w1 = group_bytes(ns.y, g);
    let w2 = group_bytes(ns.z, g);
    let w3 = group_bytes(ns.w, g);
    let a0 = row_words(ms.x, g);
    let a1 = row_words(ms.y, g);
    let a2 = row_words(ms.z, g);
    let a3 = row_words(ms.w, g);
    var c0 = vec4i(0);
    var c1 = vec4i(0);
    var c2 = vec4i(0);
    var c3 = vec4i(0);
    mac4x4(vec4u(a0.lo.x, a1.lo.x, a2.lo.x, a3.lo.x), vec4u(w0.lo.x, w1.lo.x, w2.lo.x, w3.lo.x), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.lo.y, a1.lo.y, a2.lo.y, a3.lo.y), vec4u(w0.lo.y, w1.lo.y, w2.lo.y, w3.lo.y), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.lo.z, a1.lo.z, a2.lo.z, a3.lo.z), vec4u(w0.lo.z, w1.lo.z, w2.lo.z, w3.lo.z), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.lo.w, a1.lo.w, a2.lo.w, a3.lo.w), vec4u(w0.lo.w, w1.lo.w, w2.lo.w, w3.lo.w), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.hi.x, a1.hi.x, a2.hi.x, a3.hi.x), vec4u(w0.hi.x, w1.hi.x, w2.hi.x, w3.hi.x), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.hi.y, a1.hi.y, a2.hi.y, a3.hi.y), vec4u(w0.hi.y, w1.hi.y, w2.hi.y, w3.hi.y), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.hi.z, a1.hi.z, a2.hi.z, a3.hi.z), vec4u(w0.hi.z, w1.hi.z, w2.hi.z, w3.hi.z), &c0, &c1, &c2, &c3);
    mac4x4(vec4u(a0.hi.w, a1.hi.w, a2.hi.w, a3.hi.w), vec4u(w0.hi.w, w1.hi.w, w2.hi.w, w3.hi.w), &c0, &c1, &c2, &c3);
    let sc = group_scales(ns, g);
    t0 += vec4f(c0) * sc;
    t1 += vec4f(c1) * sc;
    t2 += vec4f(c2) * sc;
    t3 += vec4f(c3) * sc;
  }
  store4(t0, m0, n0);
  store4(t1, m0 + 1u, n0);
  store4(t2, m0 + 2u, n0);
  store4(t3, m0 + 3u, n0);
}
