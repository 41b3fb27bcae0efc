import { CpuKernelError } from '../../errors.js';
import { inNode, inWorkers } from '../../platform.js';

/**
 * The compiled CPU kernels (dist/tessera-cpu.wasm, built by scripts/build-wasm.mjs). Compiled once
 * per process and instantiated per session, so each session owns its linear memory and gives it
 * back when dropped. Cloudflare Workers forbid compiling wasm from bytes at run time: there the
 * application imports the .wasm (wrangler turns it into a WebAssembly.Module) and passes it.
 */

export type CpuKernelSource = WebAssembly.Module | ArrayBuffer | Uint8Array<ArrayBuffer> | URL | string;

export interface CpuKernels {
  readonly memory: WebAssembly.Memory;
  /** First byte the kernels' own data and stack do not use. */
  readonly heapBase: number;
  readonly fns: Readonly<Record<string, (...args: number[]) => void>>;
}

const WASM_FILE = 'tessera-cpu.wasm';
let defaultModule: Promise<WebAssembly.Module> | undefined;

/** Bytes from a URL; Node's fetch has no file: scheme, so those are read from disk there. */
async function fetchBytes(source: URL | string, hint = ''): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(String(source), typeof location !== 'undefined' ? location.href : undefined);
  try {
    if (url.protocol === 'file:' && inNode()) {
      const [{ readFileSync }, { fileURLToPath }] = await Promise.all([
        import(/* @vite-ignore */ 'node:fs' as string) as Promise<typeof import('node:fs')>,
        import(/* @vite-ignore */ 'node:url' as string) as Promise<typeof import('node:url')>,
      ]);
      return new Uint8Array(readFileSync(fileURLToPath(url)));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new CpuKernelError(`fetching the CPU kernels from ${url.href} failed: ${(e as Error).message}${hint}`, { cause: e });
  }
}

async function readDefault(): Promise<Uint8Array<ArrayBuffer>> {
  if (!inNode()) return fetchBytes(new URL(`./${WASM_FILE}`, import.meta.url), '; pass `cpuKernels` to Session.load');
  // Source and bundle sit at different depths below the package root, which holds dist/.
  const [{ readFileSync, existsSync }, { dirname, join }, { fileURLToPath }] = await Promise.all([
    import(/* @vite-ignore */ 'node:fs' as string) as Promise<typeof import('node:fs')>,
    import(/* @vite-ignore */ 'node:path' as string) as Promise<typeof import('node:path')>,
    import(/* @vite-ignore */ 'node:url' as string) as Promise<typeof import('node:url')>,
  ]);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, WASM_FILE), join(dir, 'dist', WASM_FILE)]) {
      if (existsSync(candidate)) return new Uint8Array(readFileSync(candidate));
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new CpuKernelError(`${WASM_FILE} not found next to Tessera or in its dist/: run \`npm run build\` (needs clang from scripts/install-system-deps.sh)`);
}

async function compile(source: CpuKernelSource | undefined): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  // Said up front: with nodejs_compat a Worker would otherwise look for the file on a disk it lacks.
  if (inWorkers()) {
    throw new CpuKernelError('Cloudflare Workers cannot compile WebAssembly at run time: import tessera-cpu.wasm (wrangler hands over a WebAssembly.Module) and pass it as `cpuKernels`');
  }
  const bytes = source === undefined ? await readDefault()
    : typeof source === 'string' || source instanceof URL ? await fetchBytes(source) : source;
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new CpuKernelError(`the CPU kernels could not be compiled: ${(e as Error).message}`, { cause: e });
  }
}

export async function instantiateCpuKernels(source?: CpuKernelSource): Promise<CpuKernels> {
  let module: Promise<WebAssembly.Module>;
  if (source === undefined) {
    defaultModule ??= compile(undefined);
    defaultModule.catch(() => { defaultModule = undefined; });
    module = defaultModule;
  } else {
    module = compile(source);
  }
  const instance = await WebAssembly.instantiate(await module, {});
  const { memory, __heap_base: heapBase, ...fns } = instance.exports as Record<string, unknown>;
  return {
    memory: memory as WebAssembly.Memory,
    heapBase: (heapBase as WebAssembly.Global).value as number,
    fns: fns as CpuKernels['fns'],
  };
}
