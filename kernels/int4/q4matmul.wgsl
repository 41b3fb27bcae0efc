// Q4MatMul, float activations:
//   out[m][n] = activation(sum_g scale[n][g] * sum_{k in g} (u[n][k] - z[n][g]) * A[m][k] + bias[n])
//
// Layout (docs/compressed-formats.md): A row-major [M][K]; `w` read as vec4<u32>, so one group of
// 32 nibbles of one channel is one element, w[n * G + g], k ascending from the low nibble; scales
// f32 [N][G] (fp16 tables are widened at plan time); z = 8 or the group's packed zero point.
//
// Workgroup 64 invocations along N, each one output channel for MR rows (MR = 1 for M = 1, the
// batch-1 GEMV int4 is for; 4 otherwise, so a group's nibbles are unpacked once for four rows).
// The 64 channels of a workgroup read the same activations, which stay in cache; no shared
// memory, as barriers are fibre switches on SwiftShader (see kernels/matmul/gemm.wgsl). Nibbles
// come out four at a time with a vector shift and mask. The last group, when K is not a multiple
// of 32, reads activations through a bounds check; rows past M are clamped for loading and
// skipped at the store. Row blocks run over y and z so M is not capped by the 65535 limit.
//
// The prefix spliced in by gpu.ts declares: bindings `a`, `w`, `scales`, `out`, the parameter
// block (0 M, 1 N, 2 K, 3 G, 4 zero-point words per row), `const MR: u32`,
// `fn zero_point(n, g) -> f32`, `fn load_bias(n) -> f32` and `fn activation(x) -> f32`.

const SHIFT_LO = vec4u(0u, 4u, 8u, 12u);
const SHIFT_HI = vec4u(16u, 20u, 24u, 28u);

fn nibbles(word: u32, shift: vec4u, z: f32) -> vec4f {
  return vec4f((vec4u(word) >> shift) & vec4u(15u)) - z;
}

// A[row][k..k+3], zero at and past K.
fn act4_tail(row: u32, k: u32, K: u32) -> vec4f {
  let ks = vec4u(k) + vec4u(0u, 1u, 2u, 3u);
  let idx = vec4u(row) + min(ks, vec4u(K - 1u));
  return select(vec4f(0.0), vec4f(a[idx.x], a[idx.y], a[idx.z], a[idx.w]), ks < vec4u(K));
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let K = p_u(2u);
  let G = p_u(3u);
  let n = gid.x;
  let m0 = (gid.y + gid.z * nwg.y) * MR;
  if (n >= N || m0 >= M) { return; }

  var rows: array<u32, MR>;
  for (var i = 0u; i < MR; i++) { rows[i] = min(m0 + i, M - 1u) * K; }
  var acc: array<f32, MR>;
  let full = K / 32u;
  for (var g = 0u; g < G; g++) {
    let z = zero_point(n, g);
    let wv = w[n * G + g];
    var wf: array<vec4f, 8>;
    for (var j = 0u; j < 4u; j++) {
      wf[2u * j] = nibbles(wv[j], SHIFT_LO, z);
      wf[2u * j + 1u] = nibbles(wv[j], SHIFT_HI, z);
    }
    let s = scales[n * G + g];
    let k0 = g * 32u;
    for (var i = 0u; i < MR; i++) {
      var sum = vec4f(0.0);
      if (g < full) {
        let base = rows[i] + k0;
        for (var c = 0u; c < 8u; c++) {
          let b = base + 4u * c;
          sum += wf[c] * vec4f(a[b], a[b + 1u], a[b + 2u], a[b + 3u]);
        }
      } else {
        for (var c = 0u; c < 8u; c++) { sum += wf[c] * act4_tail(rows[i], k0 + 4u * c, K); }
      }
      acc[i] += s * (sum.x + sum.y + sum.z + sum.w);
    }
  }
  for (var i = 0u; i < MR; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    out[m * N + n] = activation(acc[i] + load_bias(n));
  }
}
