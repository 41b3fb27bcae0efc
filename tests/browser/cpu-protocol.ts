/** What the CPU test page (cpu-page.ts) is asked and answers: plain data, it crosses Playwright's evaluate. */

export const CPU_PAGE_ENTRY = '__tesseraCpuPage';

/**
 * How the page hands Tessera its CPU kernels: not at all (the loader fetches tessera-cpu.wasm next
 * to the bundle), as a URL (`cpuKernels: string`), or compiled by the page (`cpuKernels: Module`, as
 * a Cloudflare Worker must).
 */
export type KernelSource = { readonly kind: 'default' } | { readonly kind: 'url' | 'module'; readonly url: string };

export interface CpuPageSpec {
  readonly modelUrl: string;
  /** Each input's float32 little-endian bytes at `url`. */
  readonly inputs: readonly { readonly name: string; readonly dims: readonly number[]; readonly url: string }[];
  readonly kernels: KernelSource;
}

export type CpuPageResult =
  | {
      readonly ok: true;
      readonly outputs: Readonly<Record<string, { readonly dims: readonly number[]; readonly data: readonly number[] }>>;
      readonly backend: string;
      readonly reason: string;
      readonly calls: number;
      readonly cpuMemoryBytes: number;
      readonly firstMs: number;
      readonly steadyMs: number;
    }
  /** A thrown error, by class name and Tessera's error code, so the test can check its type. */
  | { readonly ok: false; readonly name: string; readonly code?: string; readonly message: string };
