// The activation quantizer of docs/compressed-formats.md, shared by the int8 pre-passes
// (quantize-rows.wgsl, im2row.wgsl): q = clamp(round(f32(x * inv)), -127, 127), where WGSL `round`
// is half-to-even like the reference's roundHalfEven and wasm's f32.nearest, so the packed words are
// bit-identical on every backend. Four q go into one u32, k ascending from the low byte, as the
// weights are packed.
//
// No bindings: the pre-passes (with row-value.wgsl) and a GEMM that stores int8 for the next layer
// (qgemm-common.wgsl, PACK_OUT) take it as it is.

fn quantize(x: f32, inv: f32) -> i32 {
  return i32(clamp(round(x * inv), -127.0, 127.0));
}

fn pack4(q: vec4i) -> u32 {
  let b = bitcast<vec4u>(q) & vec4u(0xffu);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
