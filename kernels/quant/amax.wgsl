// Dynamic activation scales: for each segment (a row of A for QMatMul, a whole image for QConv) of
// `len` contiguous floats, amax = max |x|, then scales[2 seg] = s = f32(amax / 127) and
// scales[2 seg + 1] = inv = f32(127 / amax) (s = 1, inv = 0 when amax = 0), as
// docs/compressed-formats.md fixes them. Max is exact and order-free, so any reduction order gives
// the reference's amax; the two divisions are IEEE (correctly rounded on SwiftShader). 127 comes
// from the parameter block, not a literal: SwiftShader turns a division by a constant into a
// multiplication by its reciprocal, which rounds amax / 127 one step off for some amax.
//
// One workgroup of 64 per segment (segments flattened over x and y): each invocation strides over
// the segment, then a shared-memory tree of 6 barriers. A row is a few hundred to a few thousand
// values, so one workgroup per row keeps the pass a single dispatch without a second reduction.
//
// Prefix from kernels/quant/gpu.ts: bindings x (f32), scales (f32, read_write), params
// (0 len, 1 segments, 2 the constant 127.0).

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let seg = wid.x + wid.y * nwg.x;
  if (seg >= p_u(1u)) { return; }
  let len = p_u(0u);
  let base = seg * len;
  var m = 0.0;
  for (var i = lid; i < len; i += 64u) {
    m = max(m, abs(x[base + i]));
  }
  part[lid] = m;
  for (var s = 32u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { part[lid] = max(part[lid], part[lid + s]); }
  }
  if (lid == 0u) {
    let a = part[0];
    let qmax = p_f(2u);
    scales[2u * seg] = select(a / qmax, 1.0, a == 0.0);
    scales[2u * seg + 1u] = select(qmax / a, 0.0, a == 0.0);
  }
}
