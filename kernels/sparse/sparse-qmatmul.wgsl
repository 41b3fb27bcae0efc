// SparseQMatMul on WebGPU for M > 64: int8 W8A8 with 2:4 structured sparse weights, read in the
// bundle's layout (docs/compressed-formats.md),
//   acc[m][n] = sum over kept (g, i) of qa[m][4g + i] * w[n][g][i]   (exact int32)
//   out[m][n] = activation(f32(acc) * (s_m * wscale[n]) + bias[n])
//
// Layout. aq: A quantized by QMatMul's pre-pass (quantize-rows.wgsl) into packed int8 rows of IW*8
// words (32 values per index word; zeros past K), so word g of a row is group g's 4 values.
// values: [N][IW] vec4<u32> (rows padded at load to whole index words with zero values): word t of
// a vec4 holds groups 2t and 2t+1, the 8 bits at 8t of the index word are their two codes.
// indices: [N][IW] u32.
//
// Per value word, gather_dot (spliced in by kernels/sparse/gpu.ts) picks the 4 kept A bytes out of
// the two groups' A words by the 2-bit indices and takes one 4-way int8 dot with the word: 8 dense
// positions per dot, half the dots of dense int8 for the same K. The shifts that do the picking
// and the unpacked weights depend on the channel only, so they are made once per value word and
// reused for every row of the invocation (struct Channel).
//
// 4 rows of A and 4 output channels per invocation, workgroups 16 wide along N (SwiftShader runs a
// workgroup on one thread, so a 256-channel layer still spreads over 4). Rows past M are clamped
// for loading and skipped at the store. (M <= 64 runs sparse-qgemv.wgsl, which shares nothing across
// rows and takes the kept activations from a table instead.)
//
// Prefix from gpu.ts: bindings aq, values (vec4<u32>), indices (u32), wscale, bias, out (f32),
// params (0 M, 1 N, 2 IW), fn store, alias WeightWord, fn weights(u32) -> WeightWord,
// fn gather_shifts, fn gather_dot.

struct Channel {
  s0: vec4u, s1: vec4u, s2: vec4u, s3: vec4u,
  w0: WeightWord, w1: WeightWord, w2: WeightWord, w3: WeightWord,
}

fn channel(at: u32) -> Channel {
  let idx = indices[at];
  let v = values[at];
  return Channel(gather_shifts(idx), gather_shifts(idx >> 8u), gather_shifts(idx >> 16u), gather_shifts(idx >> 24u),
    weights(v.x), weights(v.y), weights(v.z), weights(v.w));
}

/** One row's dot over one index word: a, b are the row's 8 A words there. */
fn row_dot(ch: Channel, a: vec4u, b: vec4u) -> i32 {
  return gather_dot(a.x, a.y, ch.s0, ch.w0) + gather_dot(a.z, a.w, ch.s1, ch.w1) + gather_dot(b.x, b.y, ch.s2, ch.w2) + gather_dot(b.z, b.w, ch.s3, ch.w3);
}

/** Lane r: row r's dot. Constant indices only: dynamic ones spill on SwiftShader. */
fn rows_dot(at: u32, a: array<vec4u, 8>) -> vec4i {
  let ch = channel(at);
  return vec4i(row_dot(ch, a[0], a[1]), row_dot(ch, a[2], a[3]), row_dot(ch, a[4], a[5]), row_dot(ch, a[6], a[7]));
}

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = p_u(0u);
  let N = p_u(1u);
  let IW = p_u(2u);
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= N || m0 >= M) { return; }
  let ns = (min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(N - 1u))) * IW;
  let ms = (min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(M - 1u))) * IW * 2u;

  // Per channel, lanes over rows.
  var acc0 = vec4i(0);
  var acc1 = vec4i(0);
  var acc2 = vec4i(0);
  var acc3 = vec4i(0);
  for (var j = 0u; j < IW; j++) {
    let a = array<vec4u, 8>(aq[ms.x + 2u * j], aq[ms.x + 2u * j + 1u], aq[ms.y + 2u * j], aq[ms.y + 2u * j + 1u],
      aq[ms.z + 2u * j], aq[ms.z + 2u * j + 1u], aq[ms.w + 2u * j], aq[ms.w + 2u * j + 1u]);
    acc0 += rows_dot(ns.x + j, a);
    acc1 += rows_dot(ns.y + j, a);
    acc2 += rows_dot(ns.z + j, a);
    acc3 += rows_dot(ns.w + j, a);
  }

  let acc = array<vec4i, 4>(acc0, acc1, acc2, acc3);
  for (var c = 0u; c < 4u; c++) {
    for (var r = 0u; r < 4u; r++) { store(acc[c][r], m0 + r, n0 + c); }
  }
}
