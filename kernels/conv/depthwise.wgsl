// Depthwise 2-D convolution (one input channel per group, channel multiplier coutG) with fused bias
// and activation. 1-D runs as H = 1.
//
// Computes out[n][c][oh][ow] = activation(bias[c] + sum over kh, kw of
// x[n][c / coutG][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw] * W[c][0][kh][kw]), zero padding.
//
// Layout: NCHW in and out; weights in their ONNX layout [C][1][KH][KW] (each invocation reads one
// channel's taps, the same for all its pixels); bias packed to [C] (zeros when absent).
//
// Each invocation computes 4 consecutive flattened output pixels of one channel, so the tap
// weight and the row bounds test are shared by 4 FMAs. Workgroup 64, flattened over
// (n, c, pixel block); the depthwise layers of the target models have little work per channel,
// and a dense 1-D grid keeps every lane busy.
//
// Prefix from conv/index.ts: bindings x, w, bias, out, params; fn activation. Params: convParams.

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + gid.y * nwg.x * 64u;
  if (flat >= p_u(18u)) { return; }
  let pixBlocks = p_u(17u);
  let nc = flat / pixBlocks;
  let p0 = (flat % pixBlocks) * 4u;

  let H = p_u(1u);
  let W = p_u(2u);
  let Wo = p_u(5u);
  let KH = p_u(6u);
  let KW = p_u(7u);
  let C = p_u(3u);
  let P = p_u(4u) * Wo;
  let c = nc % C;
  let n = nc / C;

  let ps = min(vec4u(p0) + vec4u(0u, 1u, 2u, 3u), vec4u(P - 1u));
  let oh = ps / Wo;
  let ow = ps % Wo;
  let ih0 = vec4i(oh * p_u(8u)) - vec4i(p_i(10u));
  let iw0 = vec4i(ow * p_u(9u)) - vec4i(p_i(11u));
  let dh = p_i(12u);
  let dw = p_i(13u);
  let Hi = i32(H);
  let Wi = i32(W);
  let plane = i32((n * p_u(0u) + c / p_u(15u)) * H * W);
  var wi = c * KH * KW;

  var acc = vec4f(bias[c]);
  for (var kh = 0; kh < i32(KH); kh++) {
    let ih = ih0 + vec4i(kh * dh);
    let rowOk = (ih >= vec4i(0)) & (ih < vec4i(Hi));
    let row = vec4i(plane) + ih * Wi;
    for (var kw = 0; kw < i32(KW); kw++) {
      let iw = iw0 + vec4i(kw * dw);
      let ok = rowOk & (iw >= vec4i(0)) & (iw < vec4i(Wi));
      let xi = vec4u(select(vec4i(0), row + iw, ok));
      acc += select(vec4f(0.0), vec4f(x[xi.x], x[xi.y], x[xi.z], x[xi.w]), ok) * w[wi];
      wi++;
    }
  }

  let outBase = nc * P;
  for (var j = 0u; j < 4u; j++) {
    if (p0 + j >= P) { break; }
    out[outBase + p0 + j] = activation(acc[j]);
  }
}
