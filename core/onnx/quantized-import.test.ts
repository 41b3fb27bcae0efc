import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { floatToHalf, halfToFloat } from '../half.js';
import type { Model } from '../ir/graph.js';
import { Session, type Backend } from '../session.js';
import type { Tensor } from '../tensor.js';
import { expectClose, randomTensor, testDevice } from '../../kernels/testing/harness.js';
import { buildModel, storedAs, type GraphSpec, type NodeSpec } from '../../tests/support/onnx-builder.js';
import { ortModel } from '../../tests/support/ort.js';
import { loadOnnx } from './load-onnx.js';

/**
 * Quantized ONNX files, written here as real bytes, loaded onto the com.tessera ops and run on every
 * backend against onnxruntime-web running the same file. Exact imports agree to float rounding;
 * approximate ones (listed in importNotes) within the looser bounds given per case, with the reason.
 */

const f32 = (dims: number[], values: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });
const ints = (n: number, seed: number, lo: number, hi: number): number[] =>
  Array.from(randomTensor('float32', [n], seed, [lo, hi + 1]).data, (v) => Math.min(hi, Math.floor(v)));

function graph(nodes: NodeSpec[], x: number[], y: number[], initializers: GraphSpec['initializers']): GraphSpec {
  return { nodes, initializers, inputs: [{ name: 'x', dtype: 'float32', dims: x }], outputs: [{ name: 'y', dtype: 'float32', dims: y }] };
}

async function runTessera(model: Model, backend: Backend, x: Tensor): Promise<Tensor> {
  const device = backend === 'webgpu' ? (await testDevice()).device : undefined;
  const s = await Session.load(model, { backend, device });
  try {
    return (await s.run({ x })).y!;
  } finally {
    s.dispose();
  }
}

/** Loads the file, checks the ops it became, and compares every backend with onnxruntime-web on it. */
async function checkAgainstOrt(bytes: Uint8Array, x: Tensor, ops: string[], tol: { atol: number; rtol: number }, oracle = bytes): Promise<Model> {
  const model = loadOnnx(bytes);
  expect(model.graph.nodes.map((n) => n.opType)).toEqual(ops);
  const ort = await ortModel(oracle);
  const expected = (await ort.run({ x })).y!;
  await ort.release();
  for (const backend of ['reference', 'cpu', 'webgpu'] as const) expectClose(await runTessera(model, backend, x), expected, tol, backend);
  return model;
}

/** Float rounding only: the integer dot products are the ones ORT computes. */
const EXACT = { atol: 1e-4, rtol: 1e-4 };

describe('import of QDQ models', () => {
  it('int8 QDQ MatMul + bias: per-column weight scales, static activation scale, carried over exactly', async () => {
    const [k, n] = [40, 8];
    const bytes = buildModel(graph([
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['w'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['xd', 'w'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b'], outputs: ['y'] },
    ], [3, k], [3, n], {
      xs: f32([], [0.02]), xz: storedAs('int8', 'int32', [], [0]),
      wq: storedAs('int8', 'int32', [k, n], ints(k * n, 1, -127, 127)),
      ws: f32([n], randomTensor('float32', [n], 2, [0.005, 0.02]).data), wz: storedAs('int8', 'int32', [n], new Array(n).fill(0)),
      b: f32([n], randomTensor('float32', [n], 3).data),
    }));
    // |x| < 2.5 keeps x / 0.02 inside [-127, 127], where int8's clamp and Tessera's agree.
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [3, k], 4, [-2.5, 2.5]), ['QMatMul'], EXACT);
    expect(model.graph.nodes[0]!.attrs.act_scale).toBeCloseTo(0.02, 7);
    expect(model.graph.nodes[0]!.inputs[0]).toBe('x');
    expect(model.importNotes).toEqual([]);
  });

  it('uint8 (zero point 128) activations into a Conv with per-channel int8 filters and an int32 bias: QConv, exact', async () => {
    const [cout, cin] = [6, 3];
    const ws = Array.from(randomTensor('float32', [cout], 5, [0.01, 0.03]).data);
    const xs = 0.015;
    const bytes = buildModel(graph([
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { op: 'DequantizeLinear', inputs: ['kq', 'ks', 'kz'], outputs: ['kf'], attrs: { axis: 0 } },
      { op: 'DequantizeLinear', inputs: ['bq', 'bs'], outputs: ['bf'], attrs: { axis: 0 } },
      { op: 'Conv', inputs: ['xd', 'kf', 'bf'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    ], [1, cin, 7, 7], [1, cout, 7, 7], {
      xs: f32([], [xs]), xz: storedAs('uint8', 'int32', [], [128]),
      kq: storedAs('int8', 'int32', [cout, cin, 3, 3], ints(cout * cin * 9, 6, -127, 127)),
      ks: f32([cout], ws), kz: storedAs('int8', 'int32', [cout], new Array(cout).fill(0)),
      bq: { dtype: 'int32', dims: [cout], data: Int32Array.from(ints(cout, 7, -500, 500)) }, bs: f32([cout], ws.map((s) => Math.fround(s * xs))),
    }));
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [1, cin, 7, 7], 8, [-1.8, 1.8]), ['QConv'], EXACT);
    expect(model.importNotes).toEqual([]);
  });

  it('asymmetric weights beyond [-127, 127] and uint8 activations with zero point 0: re-quantized and dynamic, and noted', async () => {
    const [k, n] = [48, 5];
    const bytes = buildModel(graph([
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['w'] },
      { op: 'Gemm', inputs: ['xd', 'w'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5 } },
    ], [2, k], [2, n], {
      xs: f32([], [0.01]), xz: storedAs('uint8', 'int32', [], [0]),
      wq: storedAs('int8', 'int32', [n, k], ints(n * k, 9, -128, 127)), ws: f32([], [0.02]), wz: storedAs('int8', 'int32', [], [5]),
    }));
    // Non-negative inputs (ReLU outputs, what uint8 zero point 0 is for). Both sides quantize
    // differently: ORT's activations in steps of 0.01, Tessera's per row in steps of max/127, and
    // weights re-quantized per channel: each product carries up to ~1% error, summed over K = 48.
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [2, k], 10, [0, 2]), ['QMatMul'], { atol: 0.05, rtol: 0.02 });
    expect(model.importNotes).toHaveLength(2);
    expect(model.importNotes![0]).toMatch(/Gemm_3: activations take a dynamic per-row scale, as activation zero point 0 \(uint8\)/);
    expect(model.importNotes![1]).toMatch(/Gemm_3: weights of "DequantizeLinear_2" quantized again per output channel, as q − zero_point reaches -12[89], outside the symmetric range/);
  });

  it('a QuantizeLinear → DequantizeLinear pair in front of a float op is dropped as fake quantization, and noted', async () => {
    const bytes = buildModel(graph([
      { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] },
      { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['d'] },
      { op: 'Relu', inputs: ['d'], outputs: ['y'] },
    ], [2, 6], [2, 6], { s: f32([], [0.5]), z: storedAs('int8', 'int32', [], [0]) }));
    const model = loadOnnx(bytes);
    expect(model.graph.nodes.map((nd) => nd.opType)).toEqual(['Identity', 'Relu']);
    expect(model.importNotes).toEqual([expect.stringMatching(/DequantizeLinear_1: .* feeds no imported layer; the value stays float/)]);
    const session = await Session.load(bytes, { backend: 'cpu' });
    expect(session.report().importNotes).toEqual(model.importNotes);
    session.dispose();
    const x = randomTensor('float32', [2, 6], 11);
    // The model rounds to steps of 0.5 and Tessera does not: at most half a step apart.
    expectClose(await runTessera(model, 'cpu', x), (await (await ortModel(bytes)).run({ x })).y!, { atol: 0.25 + 1e-6, rtol: 0 });
  });

  it('refuses a DequantizeLinear whose scale does not match the axis, naming the node', () => {
    const bytes = buildModel(graph([
      { op: 'DequantizeLinear', inputs: ['wq', 'ws'], outputs: ['w'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] },
    ], [1, 4], [1, 3], { wq: storedAs('int8', 'int32', [4, 3], new Array(12).fill(1)), ws: f32([4], [1, 1, 1, 1]) }));
    expect(() => loadOnnx(bytes)).toThrow(ModelFormatError);
    expect(() => loadOnnx(bytes)).toThrow(/DequantizeLinear "DequantizeLinear_0": scale has dims \[4\].*\[3\] along axis 1/);
  });
});

describe('import of ONNX Runtime dynamic quantization', () => {
  it('DynamicQuantizeLinear → MatMulInteger → Cast → Mul (+ Add bias) becomes one QMatMul with a dynamic scale', async () => {
    const [k, n] = [32, 6];
    const bytes = buildModel(graph([
      { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
      { op: 'MatMulInteger', inputs: ['xq', 'wq', 'xz', 'wz'], outputs: ['acc'] },
      { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: 1 } },
      { op: 'Mul', inputs: ['xs', 'ws'], outputs: ['scale'] },
      { op: 'Mul', inputs: ['accf', 'scale'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b'], outputs: ['y'] },
    ], [4, k], [4, n], {
      wq: storedAs('int8', 'int32', [k, n], ints(k * n, 12, -127, 127)), wz: storedAs('int8', 'int32', [], [0]),
      ws: f32([], [0.01]), b: f32([n], randomTensor('float32', [n], 13).data),
    }));
    // ORT quantizes x per tensor in 255 steps over [min, max] (~0.016 here), Tessera per row in ±127
    // steps (~0.016): each activation is off by up to half a step on either side, times |w| ≤ 1.27,
    // summed over K = 32 with random signs: ~0.05 typical at the largest output, 0.3 in the worst case.
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [4, k], 14), ['QMatMul'], { atol: 0.12, rtol: 0 });
    expect(model.graph.nodes[0]!.attrs.act_scale).toBeUndefined();
    expect(model.graph.nodes[0]!.inputs).toHaveLength(4);
    expect(model.importNotes).toEqual([expect.stringMatching(/MatMulInteger_1: .*per-row symmetric/)]);
  });
});

/** MatMulNBits bytes for [N, K] codes (block-major, two per byte, low nibble first). */
function nbitsBlobs(codes: number[], n: number, k: number, block: number): number[] {
  const blocks = Math.ceil(k / block);
  const out = new Array<number>(n * blocks * (block / 2)).fill(0);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) out[(r * blocks + Math.floor(i / block)) * (block / 2) + ((i % block) >> 1)]! |= codes[r * k + i]! << (4 * (i & 1));
  }
  return out;
}

function nbitsModel(k: number, n: number, block: number, options: { fp16?: boolean; zeroPoints?: boolean; bits?: number; blob?: number } = {}): Uint8Array {
  const blocks = Math.ceil(k / block);
  // Values fp16 holds exactly, so a float32 twin of an fp16-scaled model computes the same.
  const scales = Array.from(randomTensor('float32', [n * blocks], 15, [0.01, 0.05]).data, (v) => halfToFloat(floatToHalf(v)));
  const zp = ints(n * Math.ceil(blocks / 2), 16, 0, 255);
  const blob = options.blob ?? block / 2;
  return buildModel(graph([
    { op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'B', 'S', ...(options.zeroPoints ? ['Z'] : [])], outputs: ['y'], attrs: { K: k, N: n, bits: options.bits ?? 4, block_size: block } },
  ], [3, k], [3, n], {
    B: storedAs('uint8', 'int32', [n, blocks, blob], nbitsBlobs(ints(n * k, 17, 0, 15), n, k, block).slice(0, n * blocks * blob)),
    S: options.fp16 ? storedAs('float16', 'float32', [n * blocks], scales) : f32([n * blocks], scales),
    ...(options.zeroPoints ? { Z: storedAs('uint8', 'int32', [zp.length], zp) } : {}),
  }), 17, ['com.microsoft']);
}

describe('import of MatMulNBits', () => {
  it('block_size 32, fp16 scales and packed zero points, K not a multiple of 32: Q4MatMul over the same bytes', async () => {
    const bytes = nbitsModel(80, 7, 32, { fp16: true, zeroPoints: true });
    // ORT wants fp16 scales with fp16 activations; its oracle is the float32-scaled twin.
    const twin = nbitsModel(80, 7, 32, { zeroPoints: true });
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [3, 80], 18), ['Q4MatMul'], EXACT, twin);
    expect(model.graph.initializers.get('MatMulNBits_0.int4.scales')!.dtype).toBe('int32');
    expect(model.importNotes).toEqual([]);
    expect(model.graph.initializers.get('MatMulNBits_0.int4.scales')!.dims).toEqual([7, 2]);
  });

  it('block_size 32 with float scales and the default zero point 8', async () => {
    await checkAgainstOrt(nbitsModel(64, 5, 32), randomTensor('float32', [3, 64], 19), ['Q4MatMul'], EXACT);
  });

  it('block_size 16 is quantized again into groups of 32, and noted', async () => {
    const bytes = nbitsModel(64, 4, 16, { zeroPoints: true });
    // Two 16-blocks with their own scales and zero points share one 32-group: ~1/15 of a group's range per weight at worst.
    const model = await checkAgainstOrt(bytes, randomTensor('float32', [3, 64], 20), ['Q4MatMul'], { atol: 0.3, rtol: 0.1 });
    expect(model.importNotes).toEqual([expect.stringMatching(/MatMulNBits_0: MatMulNBits with block_size 16 quantized again/)]);
  });

  it('refuses bits other than 4 and a B of the wrong blob size, naming the node', () => {
    expect(() => loadOnnx(nbitsModel(64, 4, 32, { bits: 8 }))).toThrow(UnsupportedOpError);
    expect(() => loadOnnx(nbitsModel(64, 4, 32, { bits: 8 }))).toThrow(/MatMulNBits \(com.microsoft\) at node "MatMulNBits_0": bits = 8/);
    expect(() => loadOnnx(nbitsModel(64, 4, 32, { blob: 8 }))).toThrow(ModelFormatError);
    expect(() => loadOnnx(nbitsModel(64, 4, 32, { blob: 8 }))).toThrow(/MatMulNBits "MatMulNBits_0": B has dims \[4, 2, 8\].*need \[4, 2, 16\]/);
  });
});
