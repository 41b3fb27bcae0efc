// MaxPool / AveragePool over 1, 2 or 3 spatial axes: one invocation per output element, which
// walks its window (kernel taps `dilation` apart, starting at out·stride − padBegin) and skips
// taps in the padding.
//
// Layout: x is [N·C planes, S0, S1, S2] and y is [N·C, O0, O1, O2], both contiguous; 1-D and 2-D
// pools are padded on the left with unit axes (size 1, kernel 1, stride 1, no pads), whose loops
// run once, so one pipeline serves every spatial rank.
//
// Workgroup: 256 invocations along the flattened output (adjacent invocations, adjacent outputs,
// so neighbouring windows share cached input lines); the 2-D grid of dispatch1d for large outputs.
//
// Prepended by pool/index.ts: T, params (p_u, p_i), and the window fold pool_init / pool_step /
// pool_final(acc, count), where count is the number of taps inside [count_lo, count_hi) on every
// axis (AveragePool's divisor: the input only, or input plus explicit padding). MaxPool's step is
// max_nan (wgsl.ts NAN_FNS), so a NaN tap makes the output NaN as in the reference and pool.c.
//
// Params: [0] outputs, then per axis a (0..2) at 4 + 8a: [in, out, kernel, stride, dilation,
//         padBegin, count_lo, count_hi] (the last three as i32).

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> y: array<T>;

fn axis_param(a: u32, field: u32) -> u32 { return p_u(4u + a * 8u + field); }

/** The first tap's coordinate on axis `a` for output coordinate `o`. */
fn window_start(a: u32, o: u32) -> i32 { return i32(o * axis_param(a, 3u)) - p_i(4u + a * 8u + 5u); }

fn in_range(a: u32, i: i32) -> bool { return i >= 0 && i < i32(axis_param(a, 0u)); }

fn counted(a: u32, i: i32) -> bool { return i >= p_i(4u + a * 8u + 6u) && i < p_i(4u + a * 8u + 7u); }

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 256u;
  if (idx >= p_u(0u)) { return; }
  let in0 = axis_param(0u, 0u);
  let in1 = axis_param(1u, 0u);
  let in2 = axis_param(2u, 0u);
  let o2 = idx % axis_param(2u, 1u);
  let r2 = idx / axis_param(2u, 1u);
  let o1 = r2 % axis_param(1u, 1u);
  let r1 = r2 / axis_param(1u, 1u);
  let o0 = r1 % axis_param(0u, 1u);
  let plane = r1 / axis_param(0u, 1u);
  let base = plane * in0 * in1 * in2;
  let s0 = window_start(0u, o0);
  let s1 = window_start(1u, o1);
  let s2 = window_start(2u, o2);
  let d0 = i32(axis_param(0u, 4u));
  let d1 = i32(axis_param(1u, 4u));
  let d2 = i32(axis_param(2u, 4u));

  var acc = pool_init();
  var count = 0u;
  for (var k0 = 0; k0 < i32(axis_param(0u, 2u)); k0++) {
    let i0 = s0 + k0 * d0;
    for (var k1 = 0; k1 < i32(axis_param(1u, 2u)); k1++) {
      let i1 = s1 + k1 * d1;
      let row_ok = in_range(0u, i0) && in_range(1u, i1);
      let row_counted = counted(0u, i0) && counted(1u, i1);
      let row = base + (u32(max(i0, 0)) * in1 + u32(max(i1, 0))) * in2;
      for (var k2 = 0; k2 < i32(axis_param(2u, 2u)); k2++) {
        let i2 = s2 + k2 * d2;
        if (row_ok && in_range(2u, i2)) { acc = pool_step(acc, x[row + u32(i2)]); }
        count += select(0u, 1u, row_counted && counted(2u, i2));
      }
    }
  }
  y[idx] = pool_final(acc, count);
}
