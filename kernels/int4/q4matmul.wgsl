// Q4MatMul, float activations:
//   out[m][n] = activation(sum_g scale[n][g] * sum_{k in g} (u[n][k] - z[n][g]) * A[m][k] + bias[n])
//
// Layout (docs/compressed-formats.md): A row-major [M][K]; `w` read as vec4<u32>, so one group of
// 32 nibbles of one channel is one element, w[n * G + g], k ascending from the low nibble; scales
// f32 [N][G] (fp16 tables are widened at plan time); z = 8 or the group's packed zero point.
//
// Workgroup 64 invocations along N, each one output (n, m): for the batch-1 GEMV int4 is for, the
// 64 channels of a workgroup read the same activations, which stay in cache. No shared memory, as
// barriers are fibre switches on SwiftShader (see kernels/matmul/gemm.wgsl). Nibbles come out four
// at a time with a vector shift and mask. Full groups read activations unchecked; the last group,
// when K is not a multiple of 32, through a bounds check. Rows run over y and z so M is not capped
// by the 65535-workgroup limit. A 4-row register block (nibbles unpacked once for four rows)
// measured slower on SwiftShader: its private arrays live in memory there.
//
// The prefix spliced in by gpu.ts declares: bindings `a`, `w`, `scales`, `out`, the parameter
// block (0 M, 1 N, 2 K, 3 G, 4 zero-point words per row), `fn zero_point(n, g) -> f32`, `fn load_bias(n) -> f32`,
// `fn out_index(m, n) -> u32` (row-major, or NCHW for Q4Conv) and `fn activation(x) -> f32`.

const SHIFT_LO = vec4u(0u, 4u, 8u, 12u);
const SHIFT_HI = vec4u(16u, 20u, 24u, 28u);

fn nibbles(word: u32, shift: vec4u, z: f32) -> vec4f {
  return vec4f((vec4u(word) >> shift) & vec4u(15u)) - z;
}

fn act4(i: u32) -> vec4f {
  return vec4f(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
}

// A[row][k..k+3], zero at and past K.
fn act4_tail(row: u32, k: u32, K: u32) -> vec4f {
  let ks = vec4u(k) + vec4u(0u, 1u, 2u, 3u);
  let idx = vec4u(row) + min(ks, vec4u(K - 1u));
  return select(vec4f(0.0), vec4f(a[idx.x], a[idx.y], a[idx.z], a[idx.w]), ks < vec4u(K));
}

// One word's 8 weights against 8 activations. Written out, not looped over arrays: SwiftShader
// keeps a dynamically indexed private array in memory, which measured several times slower.
fn word_dot(word: u32, z: f32, lo: vec4f, hi: vec4f) -> vec4f {
  return nibbles(word, SHIFT_LO, z) * lo + nibbles(word, SHIFT_HI, z) * hi;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let K = p_u(2u);
  let G = p_u(3u);
  let n = gid.x;
  let m = gid.y + gid.z * nwg.y;
  if (n >= N || m >= M) { return; }

  let row = m * K;
  let full = K / 32u;
  var acc = 0.0;
  for (var g = 0u; g < full; g++) {
    let z = zero_point(n, g);
    let wv = w[n * G + g];
    let b = row + g * 32u;
    let sum = word_dot(wv.x, z, act4(b), act4(b + 4u)) + word_dot(wv.y, z, act4(b + 8u), act4(b + 12u))
      + word_dot(wv.z, z, act4(b + 16u), act4(b + 20u)) + word_dot(wv.w, z, act4(b + 24u), act4(b + 28u));
    acc += scales[n * G + g] * (sum.x + sum.y + sum.z + sum.w);
  }
  if (full < G) {
    let z = zero_point(n, full);
    let wv = w[n * G + full];
    let k0 = full * 32u;
    let sum = word_dot(wv.x, z, act4_tail(row, k0, K), act4_tail(row, k0 + 4u, K))
      + word_dot(wv.y, z, act4_tail(row, k0 + 8u, K), act4_tail(row, k0 + 12u, K))
      + word_dot(wv.z, z, act4_tail(row, k0 + 16u, K), act4_tail(row, k0 + 20u, K))
      + word_dot(wv.w, z, act4_tail(row, k0 + 24u, K), act4_tail(row, k0 + 28u, K));
    acc += scales[n * G + full] * (sum.x + sum.y + sum.z + sum.w);
  }
  out[out_index(m, n)] = activation(acc + load_bias(n));
}
