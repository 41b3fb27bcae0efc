/** Vite/Vitest plugin: `import src from './x.wgsl'` yields the file's text (esbuild's `text` loader does the same in builds). */
export function wgslText(): { name: string; transform(code: string, id: string): { code: string; map: null } | undefined } {
  return {
    name: 'tessera-wgsl-text',
    transform(code, id) {
      if (!id.endsWith('.wgsl')) return undefined;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}
