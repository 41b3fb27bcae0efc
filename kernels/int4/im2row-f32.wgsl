// Q4Conv's pre-pass on WebGPU: the conv's patches as float rows a[row][Kc] (row = image * P +
// output pixel, taps in ONNX weight order, padding taps 0), the A that q4matmul.wgsl and the
// int8 path's quantize-rows.wgsl read as Q4MatMul's. Rows are exactly Kc long, as Q4MatMul's A
// is K-contiguous and unpadded; both kernels handle the last partial group of 32 themselves.
//
// One invocation per value, flat over 64-wide workgroups: a conv's patch matrix is small next to
// the GEMM over it (Kc·P values against Kc·P·Cout multiply-adds), so the gather is kept plain.
//
// Prefix from kernels/int4/q4conv.ts: bindings x (f32), a (f32, read_write), the parameters
// of kernels/quant/im2row-common.wgsl (16: Kc again as the row length, 17: values in all, 18: 0),
// and im2row-common.wgsl itself.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p_u(17u)) { return; }
  let t = tap_index(patch_of(i / p_u(16u)), i % p_u(16u));
  a[i] = select(0.0, x[max(t, 0)], t >= 0);
}
