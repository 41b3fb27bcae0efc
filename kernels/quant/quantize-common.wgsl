// The activation quantizer of docs/compressed-formats.md, shared by the int8 pre-passes
// (quantize-rows.wgsl, im2row.wgsl): q = clamp(round(f32(x * inv)), -127, 127), where WGSL `round`
// is half-to-even like the reference's roundHalfEven and wasm's f32.nearest, so the packed words are
// bit-identical on every backend. Four q go into one u32, k ascending from the low byte, as the
// weights are packed.
//
// The prefix spliced in by kernels/quant/gpu.ts declares `fn act_inv(seg: u32) -> f32`: the static
// multiplier from the parameter block, or the per-segment one amax.wgsl wrote.

fn quantize(x: f32, inv: f32) -> i32 {
  return i32(clamp(round(x * inv), -127.0, 127.0));
}

/** Value k of the row of x starting at `base` (K long), quantized; 0 past K. */
fn row_value(base: u32, k: u32, K: u32, inv: f32) -> i32 {
  if (k >= K) { return 0; }
  return quantize(x[base + k], inv);
}

fn pack4(q: vec4i) -> u32 {
  let b = bitcast<vec4u>(q) & vec4u(0xffu);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
