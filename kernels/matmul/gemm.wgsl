// Batched GEMM with fused epilogue: out[b][m][n] = activation(alpha * sum_k A(b,m,k) * B(b,k,n) + bias(b,m,n)).
//
// Layout: A and B are read through element strides held in the uniform block (sAm, sAk, sBk, sBn),
// so one pipeline serves MatMul, transposed Gemm operands and broadcast batch dims (stride 0).
// `out` is dense [batch][M][N]. Batch offsets come from decomposing gid.z over BATCH_RANK dims.
//
// Workgroup 8x8, each invocation a 4x4 register block, so a workgroup owns a 32x32 output tile.
// On SwiftShader (CPU-emulated Vulkan) a workgroup runs on one thread as SIMD-4 lanes; the
// 4x4 block turns 8 loads into 16 FMAs, and having no shared memory means no barriers, which are
// fibre switches there. Rows/columns past M/N are clamped for loading and skipped at the store, so
// any M, N, K work.
//
// The prefix spliced in by gemm.ts declares: bindings `a`, `b`, `out`, the parameter block,
// `fn load_bias(off, m, n) -> f32`, `fn activation(x) -> f32` and `const BATCH_RANK: u32`.
// Params: 0 M, 1 N, 2 K, 4 sAm, 5 sAk, 6 sBk, 7 sBn, 8 sCm, 9 sCn, 10 alpha, 11 beta,
// then per batch dim (outermost first) 12+5d: dim, strideA, strideB, strideOut, strideBias.

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let K = p_u(2u);
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= N || m0 >= M) { return; }

  var rem = gid.z;
  var offA = 0u;
  var offB = 0u;
  var offO = 0u;
  var offC = 0u;
  for (var d = BATCH_RANK; d > 0u; d--) {
    let base = 12u + (d - 1u) * 5u;
    let dim = p_u(base);
    let c = rem % dim;
    rem = rem / dim;
    offA += c * p_u(base + 1u);
    offB += c * p_u(base + 2u);
    offO += c * p_u(base + 3u);
    offC += c * p_u(base + 4u);
  }

  let sAm = p_u(4u);
  let sAk = p_u(5u);
  let sBk = p_u(6u);
  let sBn = p_u(7u);
  let ms = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(M - 1u));
  let ns = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u));
  let rowA = vec4u(offA) + ms * sAm;
  let colB = vec4u(offB) + ns * sBn;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    let ka = k * sAk;
    let kb = k * sBk;
    let av = vec4f(a[rowA.x + ka], a[rowA.y + ka], a[rowA.z + ka], a[rowA.w + ka]);
    let bv = vec4f(b[colB.x + kb], b[colB.y + kb], b[colB.z + kb], b[colB.w + kb]);
    acc0 += av.x * bv;
    acc1 += av.y * bv;
    acc2 += av.z * bv;
    acc3 += av.w * bv;
  }

  let alpha = p_f(10u);
  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= N) { break; }
      out[offO + m * N + n] = activation(alpha * acc[i][j] + load_bias(offC, m, n));
    }
  }
}
