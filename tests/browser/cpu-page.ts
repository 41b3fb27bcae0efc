/**
 * The browser side of the CPU-backend check: bundled by esbuild like the bench page, it loads a
 * model on Tessera's `cpu` backend with the kernels handed over as the spec says, runs it twice and
 * answers the outputs, the session's report and the run times, or the error, typed.
 */
import { Session, TesseraError, type CpuKernelSource, type Tensor } from '../../core/index.js';
import { CPU_PAGE_ENTRY, type CpuPageResult, type CpuPageSpec, type KernelSource } from './cpu-protocol.js';

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.arrayBuffer();
}

async function kernels(source: KernelSource): Promise<CpuKernelSource | undefined> {
  if (source.kind === 'default') return undefined;
  if (source.kind === 'url') return source.url;
  return WebAssembly.compile(await fetchBytes(source.url));
}

async function run(spec: CpuPageSpec): Promise<CpuPageResult> {
  let session: Session | undefined;
  try {
    const feeds = Object.fromEntries(
      await Promise.all(spec.inputs.map(async (i): Promise<[string, Tensor]> => [i.name, { dtype: 'float32', dims: i.dims, data: new Float32Array(await fetchBytes(i.url)) }])),
    );
    const inputDims = Object.fromEntries(spec.inputs.map((i) => [i.name, i.dims]));
    session = await Session.load(await fetchBytes(spec.modelUrl), { backend: 'cpu', cpuKernels: await kernels(spec.kernels), inputDims });
    let t = performance.now();
    const out = await session.run(feeds);
    const firstMs = performance.now() - t;
    t = performance.now();
    await session.run(feeds);
    const steadyMs = performance.now() - t;
    const r = session.report();
    return {
      ok: true,
      outputs: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: Array.from(v.data, Number) }])),
      backend: r.backend,
      reason: r.reason,
      calls: r.dispatchesPerRun,
      cpuMemoryBytes: r.cpuMemoryBytes ?? 0,
      firstMs,
      steadyMs,
    };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, name: err.name, code: err instanceof TesseraError ? err.code : undefined, message: err.message };
  } finally {
    session?.dispose();
  }
}

(globalThis as Record<string, unknown>)[CPU_PAGE_ENTRY] = run;
