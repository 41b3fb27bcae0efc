/**
 * Tessera in a real browser: headless Chromium with WebGPU on SwiftShader (the bench's harness and
 * launch flags) runs a model through the bundled public API, on WebGPU and on the CPU kernels
 * (WebAssembly SIMD), and the answer must match Tessera's reference backend run here in Node.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session, type Tensor } from '../../core/index.js';
import { openHarness, type Harness } from '../../bench/browser/harness.js';
import type { Measured } from '../../bench/browser/protocol.js';
import { BENCH_MODELS, SMOKE_MODEL_ID, prepareModel, randomInput, type BenchInput } from '../../bench/models.js';
import { RENAMED_KERNELS, openCpuApp, type CpuApp } from './cpu-app.js';
import type { CpuPageResult, KernelSource } from './cpu-protocol.js';

const { onnx } = onnxProto;

/** out = Relu((x + y) * x) + Sigmoid(x + y), with y broadcast over x's leading dim: elementwise ops only. */
function elementwiseModel(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const value = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'elementwise',
      node: [
        { opType: 'Add', input: ['x', 'y'], output: ['s'] },
        { opType: 'Mul', input: ['s', 'x'], output: ['p'] },
        { opType: 'Relu', input: ['p'], output: ['r'] },
        { opType: 'Sigmoid', input: ['s'], output: ['g'] },
        { opType: 'Add', input: ['r', 'g'], output: ['out'] },
      ],
      input: [value('x', [2, 3, 5]), value('y', [3, 5])],
      output: [value('out', [2, 3, 5])],
    },
  }).finish();
}

async function inBrowser(h: Harness, name: string, bytes: Uint8Array, inputs: readonly BenchInput[]): Promise<Measured> {
  const modelUrl = h.serve(`${name}.onnx`, bytes);
  const specs = inputs.map((i) => ({ name: i.name, dims: i.dims, url: h.serve(`${name}.${i.name}.f32`, new Uint8Array(i.data.buffer)) }));
  const r = (await h.measure({ engines: [{ kind: 'tessera-webgpu' }], modelUrl, inputs: specs, warmup: 0, runs: 0, budgetMs: 0 }, 90_000))[0]!;
  if (!r.ok) throw new Error(`Tessera in Chromium failed (${r.stage}): ${r.error}`);
  return r;
}

async function inNode(bytes: Uint8Array, inputs: readonly BenchInput[]): Promise<Record<string, Tensor>> {
  const session = await Session.load(bytes, { backend: 'reference' });
  try {
    return await session.run(Object.fromEntries(inputs.map((i): [string, Tensor] => [i.name, { dtype: 'float32', dims: i.dims, data: i.data }])));
  } finally {
    session.dispose();
  }
}

function expectOutputsMatch(backend: string, name: string, got: Readonly<Record<string, { dims: readonly number[]; data: readonly number[] }>>, reference: Record<string, Tensor>): void {
  expect(Object.keys(got).sort(), `${backend} outputs of ${name}`).toEqual(Object.keys(reference).sort());
  for (const [out, want] of Object.entries(reference)) {
    const g = got[out]!;
    expect(g.dims, `${backend} dims of ${name}:${out}`).toEqual(want.dims);
    let maxAbs = 0;
    for (let i = 0; i < want.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(g.data[i]! - want.data[i]!));
    expect(maxAbs, `max |${backend} - reference| of ${name}:${out}`).toBeLessThanOrEqual(1e-4);
  }
}

async function expectSameAsReference(h: Harness, name: string, bytes: Uint8Array, inputs: readonly BenchInput[]): Promise<void> {
  const [browser, reference] = await Promise.all([inBrowser(h, name, bytes, inputs), inNode(bytes, inputs)]);
  expect(browser.detail.backend).toBe('webgpu');
  expectOutputsMatch('webgpu', name, browser.outputs, reference);
}

describe('Tessera on WebGPU in headless Chromium (SwiftShader)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('finds a WebGPU adapter', () => {
    expect(h.adapter).toMatch(/swiftshader/i);
  });

  it('runs an elementwise model (Add, Mul, Relu, Sigmoid with broadcasting) like the reference backend', async () => {
    await expectSameAsReference(h, 'elementwise', elementwiseModel(), [randomInput('x', [2, 3, 5], 1), randomInput('y', [3, 5], 2)]);
  });

  it('runs a real model, an openWakeWord head (Flatten, Gemm, Relu, Sigmoid), like the reference backend', async () => {
    const p = prepareModel(BENCH_MODELS.find((m) => m.id === SMOKE_MODEL_ID)!);
    await expectSameAsReference(h, p.model.id, new Uint8Array(readFileSync(p.path)), p.inputs);
  });
});

describe('Tessera on the CPU kernels (WebAssembly SIMD) in headless Chromium', () => {
  let app: CpuApp;
  beforeAll(async () => {
    app = await openCpuApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function inPage(where: 'app' | 'bare', name: string, bytes: Uint8Array, inputs: readonly BenchInput[], kernels: KernelSource): Promise<CpuPageResult> {
    const modelUrl = app.serve(`${name}.onnx`, bytes);
    const specs = inputs.map((i) => ({ name: i.name, dims: i.dims, url: app.serve(`${name}.${i.name}.f32`, new Uint8Array(i.data.buffer)) }));
    return app.run(where, { modelUrl, inputs: specs, kernels }, 60_000);
  }

  async function expectCpuSameAsReference(name: string, bytes: Uint8Array, inputs: readonly BenchInput[], kernels: KernelSource): Promise<void> {
    const [r, reference] = await Promise.all([inPage('app', name, bytes, inputs, kernels), inNode(bytes, inputs)]);
    if (!r.ok) expect.fail(`Tessera cpu in Chromium ${app.browserVersion} (kernels: ${kernels.kind}) failed on ${name}: ${r.name} [${r.code}]: ${r.message}`);
    expect(r.backend).toBe('cpu');
    expect(r.calls).toBeGreaterThan(0);
    console.log(`${name} on cpu in Chromium ${app.browserVersion} (kernels: ${kernels.kind}): ${r.calls} calls/run, ${(r.cpuMemoryBytes / 2 ** 20).toFixed(1)} MiB, first ${r.firstMs.toFixed(1)} ms, steady ${r.steadyMs.toFixed(1)} ms`);
    expectOutputsMatch('cpu', name, r.outputs, reference);
  }

  const elementwiseInputs = (): BenchInput[] => [randomInput('x', [2, 3, 5], 1), randomInput('y', [3, 5], 2)];

  it('loads tessera-cpu.wasm from beside the bundle by default and runs an elementwise model like the reference backend', async () => {
    await expectCpuSameAsReference('elementwise', elementwiseModel(), elementwiseInputs(), { kind: 'default' });
  });

  it('takes cpuKernels as a URL and as a compiled WebAssembly.Module', async () => {
    await expectCpuSameAsReference('elementwise', elementwiseModel(), elementwiseInputs(), { kind: 'url', url: RENAMED_KERNELS });
    await expectCpuSameAsReference('elementwise', elementwiseModel(), elementwiseInputs(), { kind: 'module', url: RENAMED_KERNELS });
  });

  it('runs a real model, an openWakeWord head (Flatten, Gemm, Relu, Sigmoid), like the reference backend', async () => {
    const p = prepareModel(BENCH_MODELS.find((m) => m.id === SMOKE_MODEL_ID)!);
    await expectCpuSameAsReference(p.model.id, new Uint8Array(readFileSync(p.path)), p.inputs, { kind: 'default' });
  });

  it('without tessera-cpu.wasm beside the bundle: CpuKernelError naming the URL, in the page', async () => {
    const r = await inPage('bare', 'elementwise', elementwiseModel(), elementwiseInputs(), { kind: 'default' });
    expect(r.ok, 'the page ran without its CPU kernels').toBe(false);
    if (r.ok) return;
    expect(r.name).toBe('CpuKernelError');
    expect(r.code).toBe('CPU_KERNELS');
    expect(r.message).toMatch(/\/bare\/tessera-cpu\.wasm failed: HTTP 404; pass `cpuKernels`/);
  });
});
