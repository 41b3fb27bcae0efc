// BatchNormalization in inference mode: y = x · a[c] + b[c], where the planner folded
// a = scale / sqrt(var + ε) and b = B − mean · a at load into one constant [a₀…a_C−1, b₀…b_C−1].
//
// Layout: x is [N, C, inner…] contiguous; the channel of element i is (i / inner) % C.
// Workgroup: 256 invocations, each writing PER_THREAD consecutive elements: on CPU-emulated
// adapters fewer, fatter invocations cost less than many thin ones, and the per-element channel
// computation keeps rows whose length is not a multiple of PER_THREAD correct.
//
// Params: [0] element count, [1] C, [2] inner.

const PER_THREAD: u32 = 4u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> ab: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let start = (gid.x + gid.y * nwg.x * 256u) * PER_THREAD;
  let total = p_u(0u);
  let C = p_u(1u);
  let inner = p_u(2u);
  for (var i = start; i < min(start + PER_THREAD, total); i++) {
    let c = (i / inner) % C;
    y[i] = x[i] * ab[c] + ab[C + c];
  }
}
