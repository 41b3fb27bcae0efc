import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpuKernelError, NoAdapterError } from '../../core/errors.js';
import { acquireDevice } from '../../core/gpu/device.js';
import { instantiateCpuKernels } from '../../core/runtime/cpu/kernel-module.js';

/**
 * A Worker with nodejs_compat has `process.versions.node`, as this process does; what tells core it
 * is in a Worker is the user agent. Faked here to reach the paths the workerd test does not (it
 * always passes the wasm).
 */
describe('core in a Worker with nodejs_compat', () => {
  beforeEach(() => {
    Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Cloudflare-Workers' }, configurable: true, writable: true });
  });
  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'navigator');
  });

  it('finds no WebGPU entry point rather than loading the Node addon', async () => {
    await expect(acquireDevice()).rejects.toBeInstanceOf(NoAdapterError);
  });

  it('asks for the wasm as a module rather than looking for it on disk', async () => {
    await expect(instantiateCpuKernels()).rejects.toThrow(CpuKernelError);
    await expect(instantiateCpuKernels(new Uint8Array(8))).rejects.toThrow(/pass it as `cpuKernels`/);
  });
});
