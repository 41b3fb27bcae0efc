// Resize (nearest, N-linear, N-cubic) from per-axis tap tables (a template: {{…}} are spliced in by resize.ts).
//
// The coordinate transformation, rounding, clamping and interpolation weights are all resolved at
// load into tables per axis, indexed by output coordinate: K taps each (K = 1 nearest, 2 linear,
// 4 cubic), a source index (-1: outside the source, which takes the extrapolation value) and a
// weight. So one pipeline serves every mode, scale and size; only the element type and rank R are
// in the text. One invocation per output element, workgroup 256, 1-D (dispatch1d folds into y).
// Leading axes that never mix two source indices (usually batch and channel) read their first
// tap only; the trailing L axes are interpolated over their K^L corners, skipping zero weights.
// With L = 0 the element is copied exactly, whatever its type (nearest on int and bool data).
//
// Uniform words: 0 count, 1 L, 2 K, 3 extrapolation value (bits of the element type), 4 R (for the
// C twin, resize.c, which reads this same block; here R is in the text), then 3 arrays of R words
// from 8: output dims, source strides, first table entry of the axis.

@group(0) @binding(0) var<storage, read> src: array<{{ELEM}}>;
@group(0) @binding(1) var<storage, read> taps: array<i32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<{{ELEM}}>;
{{PARAMS}}
const R = {{RANK}}u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p_u(0u)) { return; }
  let L = p_u(1u);
  let K = p_u(2u);
  // First tap of each axis for this output coordinate.
  var tap0: array<u32, R>;
  var rem = i;
  for (var d = i32(R) - 1; d >= 0; d--) {
    let a = u32(d);
    let n = p_u(8u + a);
    tap0[a] = (p_u(8u + 2u * R + a) + rem % n) * K;
    rem = rem / n;
  }
  var base = 0i;
  var outside = false;
  for (var a = 0u; a < R; a++) {
    outside = outside || taps[tap0[a]] < 0;
    if (a < R - L) { base += taps[tap0[a]] * p_i(8u + R + a); }
  }
  if (outside) {
    dst[i] = bitcast<{{ELEM}}>(p_u(3u));
    return;
  }
  if (L == 0u) {
    dst[i] = src[base];
    return;
  }
  var corners = 1u;
  for (var t = 0u; t < L; t++) { corners *= K; }
  var acc = 0.0;
  for (var m = 0u; m < corners; m++) {
    var w = 1.0;
    var s = base;
    var q = m;
    for (var a = R - L; a < R; a++) {
      let e = tap0[a] + q % K;
      q = q / K;
      w *= weights[e];
      s += taps[e] * p_i(8u + R + a);
    }
    if (w != 0.0) { acc += w * f32(src[s]); }
  }
  dst[i] = {{ELEM}}(acc);
}
