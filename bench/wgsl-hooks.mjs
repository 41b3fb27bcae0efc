/**
 * Node module hooks that load `.wgsl` files as text, as esbuild and vitest do, so the bench's Node
 * section can import core from source (registered by run.ts before it imports core).
 */
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.wgsl')) return nextLoad(url, context);
  const text = await readFile(new URL(url), 'utf8');
  return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
}
