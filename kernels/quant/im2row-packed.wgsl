// QConv's pre-pass when its producer already stored the activations as int8 (qgemm-common.wgsl,
// PACK_OUT): x holds words of 4 channels, pixel-major, x[b][iy][ix][cIn/4]. The patch rows are
// the GEMM's A as im2row.wgsl writes them, aq[b][g][p][KW] (u32), but with K in (kh, kw, c)
// order, so each word of a row is one word of x (or 0 for a padding tap) and nothing is
// quantized again; QConv's WebGPU plan permutes the weight rows to match (cinG % 4 == 0). The
// integer sums do not depend on the order of K, so the accumulators are the other path's.
//
// One invocation per RUN consecutive words of a row (4, 2 or 1: the most that divide the words
// per tap, so a run is one tap's channels), flat over 64-wide workgroups: a copy with one bounds
// test, where the quantizing gather reads and rounds 4 floats per word. Runs, because on
// SwiftShader an invocation's index arithmetic costs more than its loads.
//
// Prefix from kernels/quant/gpu.ts: bindings x (u32), aq (u32, read_write), params as
// im2row-common.wgsl lists them (16: words per row, 17: invocations), const RUN, and
// im2row-common.wgsl.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(17u)) { return; }
  let words = p_u(16u);
  let first = i * RUN;
  let j = first % words;
  let at = patch_of(first / words);
  let tapWords = p_u(12u) / 4u;
  let t = j / tapWords;
  var start = -1;
  if (t < p_u(4u) * p_u(5u)) {
    let iy = i32(at.oy * p_u(6u) + (t / p_u(5u)) * p_u(10u)) - p_i(8u);
    let ix = i32(at.ox * p_u(7u) + (t % p_u(5u)) * p_u(11u)) - p_i(9u);
    let H = p_u(1u);
    let W = p_u(2u);
    if (iy >= 0 && ix >= 0 && u32(iy) < H && u32(ix) < W) {
      start = i32(((at.b * H + u32(iy)) * W + u32(ix)) * (p_u(0u) / 4u) + at.g * tapWords + j % tapWords);
    }
  }
  for (var r = 0u; r < RUN; r++) {
    aq[first + r] = select(0u, x[u32(max(start, 0)) + r], start >= 0);
  }
}
