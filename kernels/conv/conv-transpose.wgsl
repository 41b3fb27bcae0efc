// Transposed 2-D convolution (1-D runs as H = 1) as a gather, with fused bias and activation.
//
// Computes out[n][co][oh][ow] = activation(bias[co] + sum over ci in co's group, kh, kw with
// oh + ph - kh*dh = ih*sh and ow + pw - kw*dw = iw*sw (0 ≤ ih < H, 0 ≤ iw < W) of
// x[n][ci][ih][iw] * W[ci][co % coutG][kh][kw]).
//
// Layout: NCHW in and out; weights in their ONNX layout [Cin][coutG][KH][KW]; bias packed to [Cout].
//
// One output element per invocation, workgroup 64, flat grid: gathering (instead of the spec's
// scatter) needs no atomics, and each output's taps are visited once. None of the target models
// leans on ConvTranspose, so this favours simplicity over a tiled formulation.
//
// Prefix from conv/index.ts: bindings x, w, bias, out, params; fn activation. Params: convParams.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + gid.y * nwg.x * 64u;
  if (flat >= p_u(18u)) { return; }
  let H = i32(p_u(1u));
  let W = i32(p_u(2u));
  let C = p_u(3u);
  let Ho = p_u(4u);
  let Wo = p_u(5u);
  let KH = i32(p_u(6u));
  let KW = i32(p_u(7u));
  let sh = i32(p_u(8u));
  let sw = i32(p_u(9u));
  let dh = p_i(12u);
  let dw = p_i(13u);
  let cinG = p_u(14u);
  let coutG = p_u(15u);

  let ow = i32(flat % Wo);
  let oh = i32((flat / Wo) % Ho);
  let co = (flat / (Wo * Ho)) % C;
  let n = flat / (Wo * Ho * C);
  let g = co / coutG;

  var acc = bias[co];
  for (var kh = 0; kh < KH; kh++) {
    let th = oh + p_i(10u) - kh * dh;
    let ih = th / sh;
    if (th < 0 || th % sh != 0 || ih >= H) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let tw = ow + p_i(11u) - kw * dw;
      let iw = tw / sw;
      if (tw < 0 || tw % sw != 0 || iw >= W) { continue; }
      for (var ci = g * cinG; ci < (g + 1u) * cinG; ci++) {
        let xv = x[((n * p_u(0u) + ci) * u32(H) + u32(ih)) * u32(W) + u32(iw)];
        acc += xv * w[((ci * coutG + co % coutG) * u32(KH) + u32(kh)) * u32(KW) + u32(kw)];
      }
    }
  }
  out[flat] = activation(acc);
}
