/**
 * Headless Chromium with WebGPU on SwiftShader, for the bench and the browser tests. One module so
 * both measure and test on exactly the same browser and adapter.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium ships SwiftShader's Vulkan ICD; Playwright's own browser download is not available here. */
export const CHROMIUM_PATH = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

/**
 * On this machine `--enable-unsafe-webgpu` alone already yields SwiftShader (there is no GPU); the
 * SwiftShader flags pin that adapter so a machine with a GPU benchmarks the same software adapter
 * and numbers stay comparable. The rest keep a closed-network box from stalling on update,
 * sync and QUIC probes.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS] });
}

/**
 * The page's WebGPU adapter as "vendor architecture device description". Throws with the reason when
 * there is none, so a harness never silently measures nothing. The page must be a secure context
 * (http://127.0.0.1 is; about:blank is not, and has no navigator.gpu).
 */
export async function requireWebGpuAdapter(page: Page): Promise<string> {
  const found = await page.evaluate(async () => {
    if (!('gpu' in navigator)) return { error: `navigator.gpu is missing (secure context: ${isSecureContext})` };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { error: 'navigator.gpu.requestAdapter() returned null' };
    const i = adapter.info;
    return { adapter: [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter' };
  });
  if ('error' in found) {
    throw new Error(`no WebGPU adapter in headless Chromium (${CHROMIUM_PATH} ${CHROMIUM_FLAGS.join(' ')}): ${found.error}`);
  }
  return found.adapter;
}
