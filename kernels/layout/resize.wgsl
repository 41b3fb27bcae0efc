// Resize (nearest and N-linear) from per-axis tap tables (a template: {{…}} are spliced in by resize.ts).
//
// The coordinate transformation, rounding and clamping are all resolved at load into two tables
// per axis, indexed by output coordinate: `taps` holds the two source indices (i0, i1; -1 marks a
// coordinate outside the source, which takes the extrapolation value) and `weights` the weight of
// i1. So one pipeline serves every mode, scale and size; only the element type and rank R are in
// the text. One invocation per output element, workgroup 256, 1-D (dispatch1d folds into y).
// Nearest (L = 0) copies src[Σ i0·stride] exactly, whatever the type. Linear interpolates over the
// trailing L axes (those whose taps differ; leading axes, usually batch and channel, read i0 only),
// visiting the 2^L corners and skipping those of zero weight.
//
// Uniform words: 0 count, 1 L, 2 extrapolation value (bits of the element type), then 3 arrays of
// R words from 4: output dims, source strides, offset of the axis in the tables.

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
  // Table entry of each axis for this output coordinate.
  var entry: array<u32, R>;
  var rem = i;
  for (var d = i32(R) - 1; d >= 0; d--) {
    let a = u32(d);
    let n = p_u(4u + a);
    entry[a] = p_u(4u + 2u * R + a) + rem % n;
    rem = rem / n;
  }
  var base = 0i;
  var outside = false;
  for (var a = 0u; a < R - L; a++) {
    let t = taps[2u * entry[a]];
    outside = outside || t < 0;
    base += t * p_i(4u + R + a);
  }
  if (L == 0u) {
    if (outside) { dst[i] = bitcast<{{ELEM}}>(p_u(2u)); } else { dst[i] = src[base]; }
    return;
  }
  var acc = 0.0;
  for (var m = 0u; m < (1u << L); m++) {
    var w = 1.0;
    var s = base;
    for (var t = 0u; t < L; t++) {
      let a = R - L + t;
      let hi = (m >> t) & 1u;
      let tap = taps[2u * entry[a] + hi];
      let wt = weights[entry[a]];
      outside = outside || tap < 0;
      w *= select(1.0 - wt, wt, hi == 1u);
      s += tap * p_i(4u + R + a);
    }
    if (!outside && w != 0.0) { acc += w * f32(src[s]); }
  }
  if (outside) { dst[i] = bitcast<{{ELEM}}>(p_u(2u)); } else { dst[i] = {{ELEM}}(acc); }
}
