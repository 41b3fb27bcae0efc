import { NoAdapterError } from '../errors.js';
import { inNode } from '../platform.js';

/**
 * Finds a WebGPU device: the browser's `navigator.gpu`, or in Node the `webgpu` package (Dawn).
 * Without a hardware GPU Dawn needs a Vulkan driver; when none answers we point the Vulkan loader
 * at SwiftShader (shipped by Debian's chromium) or Mesa's lavapipe and ask again.
 */

const SOFTWARE_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
];

const HOW_TO_GET_ONE =
  'Tessera needs a WebGPU adapter. In a browser: a WebGPU-enabled browser (Chromium: --enable-unsafe-webgpu). ' +
  'In Node: the optional `webgpu` package (Dawn), and without a GPU a software Vulkan driver from `bash scripts/install-system-deps.sh` ' +
  '(Debian chromium brings SwiftShader), or set VK_ICD_FILENAMES to a Vulkan ICD json.';

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterInfo: string;
  readonly features: ReadonlySet<string>;
  readonly wgslFeatures: ReadonlySet<string>;
}

interface NodeGpu {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let nodeGpu: Promise<GPU | undefined> | undefined;

/**
 * Held in a variable so bundlers leave the import alone: wrangler (esbuild) would otherwise try to
 * bundle the native addon into a Worker, where it can neither resolve nor run.
 */
const NODE_WEBGPU = 'webgpu';

async function fileExists(path: string): Promise<boolean> {
  const fs = await import('node:fs');
  return fs.existsSync(path);
}

async function loadNodeGpu(): Promise<GPU | undefined> {
  let mod: NodeGpu;
  try {
    mod = (await import(/* @vite-ignore */ NODE_WEBGPU)) as NodeGpu;
  } catch {
    // `webgpu` is an optional dependency: without it Node has no WebGPU, and 'auto' runs on the CPU.
    return undefined;
  }
  // Dawn's globals (GPUBufferUsage etc.) are what browser code expects to find.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= (await import('node:os')).tmpdir();
  if (!env.VK_ICD_FILENAMES) {
    const probe = mod.create([]);
    if (await probe.requestAdapter()) return probe;
    for (const icd of SOFTWARE_ICDS) {
      if (!(await fileExists(icd))) continue;
      env.VK_ICD_FILENAMES = icd;
      const gpu = mod.create([]);
      if (await gpu.requestAdapter()) return gpu;
    }
    delete env.VK_ICD_FILENAMES;
    return undefined;
  }
  return mod.create([]);
}

async function gpuEntryPoint(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!inNode()) return undefined;
  nodeGpu ??= loadNodeGpu();
  return nodeGpu;
}

/**
 * The WGSL language features of this environment's WebGPU implementation (empty without one). They
 * belong to the implementation, not to a device, so they hold for a device the application made.
 */
export async function wgslLanguageFeatures(): Promise<ReadonlySet<string>> {
  const gpu = await gpuEntryPoint();
  return new Set([...(gpu?.wgslLanguageFeatures ?? [])]);
}

/** The features Tessera's kernels can use when present; each has a fallback path. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups' as GPUFeatureName];

export async function acquireDevice(): Promise<AcquiredDevice> {
  const gpu = await gpuEntryPoint();
  if (!gpu) throw new NoAdapterError(`no WebGPU entry point in this environment. ${HOW_TO_GET_ONE}`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new NoAdapterError(`no WebGPU adapter found. ${HOW_TO_GET_ONE}`);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    },
  });
  const info = adapter.info;
  const adapterInfo = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return {
    device,
    adapterInfo,
    features: new Set([...device.features]),
    wgslFeatures: new Set([...(gpu.wgslLanguageFeatures ?? [])]),
  };
}
