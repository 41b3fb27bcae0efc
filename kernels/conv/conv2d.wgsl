// Direct grouped 2-D convolution (1-D runs as H = 1) with fused bias and activation.
//
// Computes out[n][g*coutG + co][oh][ow] = activation(bias + sum over ci < cinG, kh, kw of
// x[n][g*cinG + ci][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[co][ci][kh][kw]), zero padding.
//
// Layout: x and out are NCHW. Weights are re-packed at load (conv/index.ts) as
// w[g][ci][kh][kw][co] with co padded to a multiple of 4 and read as vec4: the 4 output channels an
// invocation accumulates come in one load. Bias is packed the same way ([g][coPad4]).
//
// Each invocation owns a 4-channel x 4-pixel register block (16 accumulators; 4 input loads + 1
// vec4 weight load feed 16 FMAs). Pixels are 4 consecutive flattened output positions, so for
// pointwise convs (POINTWISE: 1x1, stride 1, no pad) the input loads are contiguous and need no
// bounds checks. Workgroup 64, flattened over (channel block, pixel block) so small feature maps
// do not leave lanes idle; z runs over batch x group. Positions past the end are clamped for
// loading and skipped at the store.
//
// Prefix from conv/index.ts: bindings x, w (vec4), bias (vec4), out, params; fn activation;
// const POINTWISE: bool. Params are documented in convParams (conv/index.ts).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + gid.y * nwg.x * 64u;
  let pixBlocks = p_u(17u);
  if (flat >= p_u(16u) * pixBlocks) { return; }
  let cb = flat / pixBlocks;
  let p0 = (flat % pixBlocks) * 4u;

  let H = p_u(1u);
  let W = p_u(2u);
  let Ho = p_u(4u);
  let Wo = p_u(5u);
  let KH = p_u(6u);
  let KW = p_u(7u);
  let cinG = p_u(14u);
  let coutG = p_u(15u);
  let coBlocks = p_u(16u);
  let P = Ho * Wo;
  let group = p_u(3u) / coutG;
  let n = gid.z / group;
  let g = gid.z % group;

  let ps = min(vec4u(p0) + vec4u(0u, 1u, 2u, 3u), vec4u(P - 1u));
  let xBase = (n * p_u(0u) + g * cinG) * H * W;
  var wi = g * cinG * KH * KW * coBlocks + cb;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  if (POINTWISE) {
    var xi = xBase + ps;
    for (var ci = 0u; ci < cinG; ci++) {
      let wv = w[wi];
      acc0 += x[xi.x] * wv;
      acc1 += x[xi.y] * wv;
      acc2 += x[xi.z] * wv;
      acc3 += x[xi.w] * wv;
      xi += vec4u(H * W);
      wi += coBlocks;
    }
  } else {
    let oh = ps / Wo;
    let ow = ps % Wo;
    let ih0 = vec4i(oh * p_u(8u)) - vec4i(p_i(10u));
    let iw0 = vec4i(ow * p_u(9u)) - vec4i(p_i(11u));
    let dh = p_i(12u);
    let dw = p_i(13u);
    let Hi = i32(H);
    let Wi = i32(W);
    for (var ci = 0u; ci < cinG; ci++) {
      let plane = i32(xBase + ci * H * W);
      for (var kh = 0; kh < i32(KH); kh++) {
        let ih = ih0 + vec4i(kh * dh);
        let rowOk = (ih >= vec4i(0)) & (ih < vec4i(Hi));
        let row = vec4i(plane) + ih * Wi;
        for (var kw = 0; kw < i32(KW); kw++) {
          let iw = iw0 + vec4i(kw * dw);
          let ok = rowOk & (iw >= vec4i(0)) & (iw < vec4i(Wi));
          let xi = vec4u(select(vec4i(0), row + iw, ok));
          let xv = select(vec4f(0.0), vec4f(x[xi.x], x[xi.y], x[xi.z], x[xi.w]), ok);
          let wv = w[wi];
          acc0 += xv.x * wv;
          acc1 += xv.y * wv;
          acc2 += xv.z * wv;
          acc3 += xv.w * wv;
          wi += coBlocks;
        }
      }
    }
  }

  let bv = bias[g * coBlocks + cb];
  var acc = array<vec4f, 4>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv);
  let outBase = (n * p_u(3u) + g * coutG) * P;
  for (var j = 0u; j < 4u; j++) {
    let p = p0 + j;
    if (p >= P) { break; }
    for (var i = 0u; i < 4u; i++) {
      let co = cb * 4u + i;
      if (co >= coutG) { break; }
      out[outBase + co * P + p] = activation(acc[j][i]);
    }
  }
}
