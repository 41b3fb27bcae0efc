// Direct grouped 2-D convolution (1-D runs as H = 1) with fused bias and activation.
//
// Computes out[n][g*coutG + co][oh][ow] = activation(bias + sum over ci < cinG, kh, kw of
// x[n][g*cinG + ci][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[co][ci][kh][kw] + residual),
// zero padding. The residual is a following Add the planner fused in (0 when there is none).
//
// Layout: x and out are NCHW. Weights are re-packed at load (conv/index.ts) as
// w[g][kh][kw][ci][co] with co padded to a multiple of 8 and read as vec4: the 8 output channels an
// invocation accumulates come in two loads. Bias is packed the same way ([g][coPad8]).
//
// Each invocation owns an 8-channel x 4-pixel register block (32 accumulators; 4 input loads + 2
// vec4 weight loads feed 32 FMAs). On SwiftShader the input loads are per-lane gathers with bounds
// tests and dominate; against 4 channels, 8 cut the CPU time of a pointwise conv by about a third
// (measured with perf.ts). Pixels are 4 consecutive flattened output positions, so for
// pointwise convs (POINTWISE: 1x1, stride 1, no pad) the input loads are contiguous and need no
// bounds checks. Workgroup 64, flattened over (channel block, pixel block) so small feature maps
// do not leave lanes idle; z runs over batch x group. Positions past the end are clamped for
// loading and skipped at the store.
//
// Prefix from conv/index.ts: bindings x, w (vec4), bias (vec4), out, params; fn activation;
// fn residual (by output index); const POINTWISE: bool. Params are documented in convParams (conv/index.ts).

/** Four pixels' values times eight channels' weights (lo: channels 0-3, hi: 4-7), accumulated. */
fn fma8(xv: vec4f, lo: vec4f, hi: vec4f,
        a0: ptr<function, vec4f>, a1: ptr<function, vec4f>, a2: ptr<function, vec4f>, a3: ptr<function, vec4f>,
        b0: ptr<function, vec4f>, b1: ptr<function, vec4f>, b2: ptr<function, vec4f>, b3: ptr<function, vec4f>) {
  *a0 += xv.x * lo;
  *a1 += xv.y * lo;
  *a2 += xv.z * lo;
  *a3 += xv.w * lo;
  *b0 += xv.x * hi;
  *b1 += xv.y * hi;
  *b2 += xv.z * hi;
  *b3 += xv.w * hi;
}

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
  var wi = (g * cinG * KH * KW * coBlocks + cb) * 2u;

  // accJ / accJh: pixel J, channels 0-3 / 4-7 of the block.
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc0h = vec4f(0.0);
  var acc1h = vec4f(0.0);
  var acc2h = vec4f(0.0);
  var acc3h = vec4f(0.0);
  // Taps outside, channels inside: a tap's pixel offsets and padding mask are computed once and
  // the channel loop is the same 4 gathers + 32 FMAs as a pointwise conv.
  let oh = ps / Wo;
  let ow = ps % Wo;
  let ih0 = vec4i(oh * p_u(8u)) - vec4i(p_i(10u));
  let iw0 = vec4i(ow * p_u(9u)) - vec4i(p_i(11u));
  let plane = H * W;
  for (var kh = 0u; kh < KH; kh++) {
    let ih = ih0 + vec4i(i32(kh) * p_i(12u));
    let rowOk = (ih >= vec4i(0)) & (ih < vec4i(i32(H)));
    for (var kw = 0u; kw < KW; kw++) {
      let iw = iw0 + vec4i(i32(kw) * p_i(13u));
      var ok = vec4<bool>(true);
      var xi = xBase + ps;
      if (!POINTWISE) {
        ok = rowOk & (iw >= vec4i(0)) & (iw < vec4i(i32(W)));
        xi = xBase + vec4u(select(vec4i(0), ih * i32(W) + iw, ok));
      }
      for (var ci = 0u; ci < cinG; ci++) {
        let xv = select(vec4f(0.0), vec4f(x[xi.x], x[xi.y], x[xi.z], x[xi.w]), ok);
        fma8(xv, w[wi], w[wi + 1u], &acc0, &acc1, &acc2, &acc3, &acc0h, &acc1h, &acc2h, &acc3h);
        xi += vec4u(plane);
        wi += coBlocks * 2u;
      }
    }
  }

  let bv = bias[(g * coBlocks + cb) * 2u];
  let bh = bias[(g * coBlocks + cb) * 2u + 1u];
  var acc = array<vec4f, 8>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv, acc0h + bh, acc1h + bh, acc2h + bh, acc3h + bh);
  let outBase = (n * p_u(3u) + g * coutG) * P;
  for (var j = 0u; j < 4u; j++) {
    let p = p0 + j;
    if (p >= P) { break; }
    for (var i = 0u; i < 8u; i++) {
      let co = cb * 8u + i;
      if (co >= coutG) { break; }
      let oi = outBase + co * P + p;
      out[oi] = activation(acc[j + (i / 4u) * 4u][i % 4u] + residual(oi));
    }
  }
}
