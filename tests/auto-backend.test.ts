/**
 * `backend: 'auto'` (the default) picks WebGPU when an adapter is found and the CPU kernels when
 * none is, and the session's report says which and why: an application shows it, a bug report
 * quotes it. Here Dawn finds SwiftShader; the machine without an adapter is a module mock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Tensor } from '../core/tensor.js';
import { randomTensor } from '../kernels/testing/harness.js';
import { compareTensors } from './support/compare.js';
import { denseReluModel } from './support/onnx-builder.js';

type SessionModule = typeof import('../core/session.js');

const feeds = (): Record<string, Tensor> => ({ x: randomTensor('float32', [3, 4], 5) });

async function referenceOutput(Session: SessionModule['Session']): Promise<Tensor> {
  const ref = await Session.load(denseReluModel(), { backend: 'reference', inputDims: { x: [3, 4] } });
  try {
    return (await ref.run(feeds())).y!;
  } finally {
    ref.dispose();
  }
}

describe("backend 'auto'", () => {
  afterEach(() => {
    vi.doUnmock('../core/gpu/device.js');
    vi.resetModules();
  });

  for (const backend of ['auto', undefined] as const) {
    it(`${backend ?? 'no backend option'}: WebGPU when an adapter is found, and the report says so`, async () => {
      const { Session } = await import('../core/session.js');
      const session = await Session.load(denseReluModel(), { backend, inputDims: { x: [3, 4] } });
      try {
        const out = await session.run(feeds());
        const report = session.report();
        expect(report.backend).toBe('webgpu');
        expect(report.reason).toMatch(/^WebGPU adapter: .*swiftshader/i);
        expect(report.adapter).toMatch(/swiftshader/i);
        expect(report.nodes.length).toBeGreaterThan(0);
        expect(report.nodes.every((n) => n.backend === 'webgpu')).toBe(true);
        const cmp = compareTensors(out.y!, await referenceOutput(Session));
        expect(cmp.ok, `auto → webgpu: ${cmp.problem}`).toBe(true);
      } finally {
        session.dispose();
      }
    });
  }

  /** The session module, loaded afresh over a device module that finds no adapter. */
  async function withoutAdapter(): Promise<SessionModule & { NoAdapterError: typeof import('../core/errors.js').NoAdapterError }> {
    vi.resetModules();
    vi.doMock('../core/gpu/device.js', async () => {
      const { NoAdapterError } = await import('../core/errors.js');
      return {
        acquireDevice: async () => {
          throw new NoAdapterError('navigator.gpu.requestAdapter() returned null (mocked)');
        },
      };
    });
    const [session, errors] = await Promise.all([import('../core/session.js'), import('../core/errors.js')]);
    return { ...session, NoAdapterError: errors.NoAdapterError };
  }

  it('no adapter: the CPU kernels, and the report says why', async () => {
    const { Session } = await withoutAdapter();
    const session = await Session.load(denseReluModel(), { backend: 'auto', inputDims: { x: [3, 4] } });
    try {
      const out = await session.run(feeds());
      const report = session.report();
      expect(report.backend).toBe('cpu');
      expect(report.reason).toMatch(/^no WebGPU adapter \(navigator\.gpu\.requestAdapter\(\) returned null \(mocked\)\); using the CPU kernels/);
      expect(report.adapter).toBeUndefined();
      expect(report.cpuMemoryBytes).toBeGreaterThan(0);
      expect(report.nodes.every((n) => n.backend === 'cpu')).toBe(true);
      const cmp = compareTensors(out.y!, await referenceOutput(Session));
      expect(cmp.ok, `auto → cpu: ${cmp.problem}`).toBe(true);
    } finally {
      session.dispose();
    }
  });

  it("no adapter with backend 'webgpu': NoAdapterError, no silent fallback", async () => {
    const { Session, NoAdapterError } = await withoutAdapter();
    const e = await Session.load(denseReluModel(), { backend: 'webgpu', inputDims: { x: [3, 4] } }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(NoAdapterError);
    expect((e as Error).message).toMatch(/requestAdapter\(\) returned null/);
  });
});
