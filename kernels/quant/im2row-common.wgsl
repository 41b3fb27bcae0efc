// Where a conv's patch rows read the image, shared by QConv's quantizing im2row.wgsl, its
// im2row-packed.wgsl and Q4Conv's float im2row-f32.wgsl (kernels/int4), so all gather the same taps. Row `row` of the patch
// matrix is output pixel p = row % P of slice z = row / P (image b = z / group, group g = z % group);
// its K = cinG * KH * KW taps follow ONNX weight order (c, kh, kw).
//
// With param 18 (Wo / 2) nonzero the pixels are in 2x2-window order instead: rows 4q..4q+3 are
// the window of pooled pixel q, in the order MaxPool visits its taps, so a QConv whose output only
// a 2x2 stride-2 MaxPool reads can pool 4 consecutive GEMM rows in its epilogue (qgemm-common.wgsl).
//
// Parameters (the prefix declares them; kernels/quant/gpu.ts im2rowParams packs them): 0 cIn, 1 H,
// 2 W, 3 Wo, 4 KH, 5 KW, 6 sh, 7 sw, 8 ph (i32), 9 pw (i32), 10 dh, 11 dw, 12 cinG, 13 group,
// 14 P (pixels), 15 Kc, 16 values or words per row, 17 total invocations, 18 pooled width or 0.

struct Patch {
  // First input value of the row's image and group (NCHW), its image and group, and its output pixel.
  base: u32,
  b: u32,
  g: u32,
  oy: u32,
  ox: u32,
}

fn patch_of(row: u32) -> Patch {
  let P = p_u(14u);
  let group = p_u(13u);
  let p = row % P;
  let z = row / P;
  let b = z / group;
  let g = z % group;
  let base = (b * p_u(0u) + g * p_u(12u)) * p_u(1u) * p_u(2u);
  let pooledW = p_u(18u);
  if (pooledW == 0u) { return Patch(base, b, g, p / p_u(3u), p % p_u(3u)); }
  let q = p / 4u;
  let j = p % 4u;
  return Patch(base, b, g, (q / pooledW) * 2u + j / 2u, (q % pooledW) * 2u + j % 2u);
}

// x's index of tap k of the patch at `at`, or -1 for a padding tap and for k >= Kc.
fn tap_index(at: Patch, k: u32) -> i32 {
  if (k >= p_u(15u)) { return -1; }
  let taps = p_u(4u) * p_u(5u);
  let ci = k / taps;
  let t = k % taps;
  let iy = i32(at.oy * p_u(6u) + (t / p_u(5u)) * p_u(10u)) - p_i(8u);
  let ix = i32(at.ox * p_u(7u) + (t % p_u(5u)) * p_u(11u)) - p_i(9u);
  let H = p_u(1u);
  let W = p_u(2u);
  if (iy < 0 || ix < 0 || u32(iy) >= H || u32(ix) >= W) { return -1; }
  return i32(at.base + (ci * H + u32(iy)) * W + u32(ix));
}
