// Generic strided copy: the one kernel behind Transpose, Slice, Expand, Tile, Pad, Concat, Split,
// Gather and GatherElements (a template: {{…}} are spliced in by strided-kernel.ts).
//
// One invocation per element of an iteration space of rank R (row-major dims n[d]), workgroup 256,
// 1-D (dispatch1d folds large counts into y). For the coordinate c[d] along each axis:
//   source coordinate  k[d] = bound(start[d] + c[d] * step[d], src_dim[d])
//   source offset      src_base + Σ k[d] * src_stride[d]   (+ idx[Σ c[d] * idx_stride[d]] * gather_stride)
//   destination offset dst_base + Σ c[d] * dst_stride[d]
// `bound` is the op's edge rule (identity, wrap, clamp, reflect, or -1 = outside → fill value).
// Gathers run over the output (dst_stride contiguous); Concat runs over each input and scatters into
// its slice of the output. Everything shape-dependent is in the uniform block; only the element
// type, R, the edge rule and whether an index tensor is read are in the text, so one pipeline serves
// every shape of an op and rank.
//
// Uniform words: 0 count, 1 src_base, 2 dst_base, 3 fill (bits of the element type),
// 4 gather_dim, 5 gather_stride, then 7 arrays of R words from 8: n, start, step, src_dim,
// src_stride, dst_stride, idx_stride. Words 6 and 7 (R and the edge rule) are for the C twin,
// strided.c, which reads this same block; here both are in the text.

@group(0) @binding(0) var<storage, read> src: array<{{ELEM}}>;
{{INDEX_DECL}}
@group(0) @binding({{OUT_BINDING}}) var<storage, read_write> dst: array<{{ELEM}}>;
{{PARAMS}}
const R = {{RANK}}u;

fn bound(k: i32, n: i32) -> i32 {
  {{BOUND}}
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p_u(0u)) { return; }
  var rem = i;
  var s = p_i(1u);
  var o = p_u(2u);
  var j = 0u;
  var outside = false;
  for (var d = i32(R) - 1; d >= 0; d--) {
    let a = u32(d);
    let n = p_u(8u + a);
    let c = rem % n;
    rem = rem / n;
    let k = bound(p_i(8u + R + a) + i32(c) * p_i(8u + 2u * R + a), p_i(8u + 3u * R + a));
    outside = outside || k < 0;
    s += k * p_i(8u + 4u * R + a);
    o += c * p_u(8u + 5u * R + a);
    j += c * p_u(8u + 6u * R + a);
  }
  {{INDEX_USE}}
  if (outside) {
    dst[o] = bitcast<{{ELEM}}>(p_u(3u));
  } else {
    dst[o] = src[u32(s)];
  }
}
