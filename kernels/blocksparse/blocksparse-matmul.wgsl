// BlockSparseMatMul on WebGPU: y[m][n] = act(sum_k A[m][k] * W[n][k] + bias[n]) with float32 W
// stored as BSR blocks of 4 output channels x 16 along K (kernels/blocksparse/format.ts):
// values [nnz][4][16] read as vec4s (block b, channel c, quarter q at 16 b + 4 c + q), blockCols
// [nnz] (the K-block), rowPtr [groups + 1]; bias padded to 4 groups (zeros), out [M][N].
//
// One invocation per (row group, row of A): it walks its group's stored blocks, so zero blocks
// cost nothing, and keeps one vec4 accumulator per channel (4 partial sums along K), reduced by
// a dot with 1 at the store. The weights of a block are 16 consecutive vec4s; A is read as
// scalars (a row of K floats need not be vec4-aligned), the last K-block's columns past K as 0
// so that its zero padding never meets the next row's values. Workgroups of 16 along the row
// groups (SwiftShader runs a workgroup on one thread: a 1024-channel layer spreads over 16), one
// row of A per wid.y.
fn a_at(row: u32, col: u32) -> f32 {
  let K = p_u(2u);
  if (col >= K) { return 0.0; }
  return a[row * K + col];
}

fn a_vec(row: u32, col: u32) -> vec4f {
  return vec4f(a_at(row, col), a_at(row, col + 1u), a_at(row, col + 2u), a_at(row, col + 3u));
}

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let g = gid.x;
  let row = gid.y;
  let N = p_u(1u);
  if (g >= p_u(3u) || row >= p_u(0u)) { return; }
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var b = u32(row_ptr[g]); b < u32(row_ptr[g + 1u]); b++) {
    let col = u32(block_cols[b]) * 16u;
    for (var q = 0u; q < 4u; q++) {
      let x = a_vec(row, col + 4u * q);
      for (var c = 0u; c < 4u; c++) { acc[c] += values[16u * b + 4u * c + q] * x; }
    }
  }
  for (var c = 0u; c < 4u; c++) {
    let n = 4u * g + c;
    if (n < N) { out[row * N + n] = activation(dot(acc[c], vec4f(1.0)) + bias[n]); }
  }
}
