// Value k of a float row, quantized by quantize-common.wgsl's rule, for the pre-passes that read
// rows of x (quantize-rows.wgsl, kernels/sparse/kept-table.wgsl).
//
// The prefix spliced in by kernels/quant/gpu.ts declares the binding x and `fn act_inv(seg: u32)
// -> f32`: the static multiplier from the parameter block, or the per-segment one amax.wgsl wrote.

// The row of x starts at `base` and is K long; 0 past K.
fn row_value(base: u32, k: u32, K: u32, inv: f32) -> i32 {
  if (k >= K) { return 0; }
  return quantize(x[base + k], inv);
}

