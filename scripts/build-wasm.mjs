/**
 * Builds the CPU kernels: every `kernels/**\/*.c` (each the C twin of a WGSL kernel beside it)
 * compiled with clang for wasm32 with SIMD128 and linked into one module, dist/tessera-cpu.wasm.
 * libm comes from Debian's wasi-libc, statically: the module imports nothing and exports its
 * memory, `__heap_base` and one function per kernel. Skips the build when the module is newer than
 * every source. The toolchain is Debian's clang-19/lld-19 (scripts/install-system-deps.sh).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WASM_OUT = join(root, 'dist', 'tessera-cpu.wasm');

function sources(dir = join(root, 'kernels'), out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.c') || e.name.endsWith('.h')) out.push(p);
  }
  return out.sort();
}

function findClang() {
  for (const c of ['clang-19', 'clang-20', 'clang-18', 'clang']) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch { /* try the next */ }
  }
  throw new Error('clang with the wasm32 target was not found: run scripts/install-system-deps.sh (Debian clang-19, lld-19, wasi-libc, libclang-rt-19-dev-wasm32)');
}

export function buildWasm({ force = false, quiet = false } = {}) {
  const files = sources();
  const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (!force && existsSync(WASM_OUT) && statSync(WASM_OUT).mtimeMs >= newest) return WASM_OUT;
  mkdirSync(dirname(WASM_OUT), { recursive: true });
  const cfiles = files.filter((f) => f.endsWith('.c'));
  // Built aside and renamed: concurrent builds (parallel test runs) never see a half-written module.
  const tmp = `${WASM_OUT}.${process.pid}.tmp`;
  execFileSync(findClang(), [
    '--target=wasm32-wasi', '-O3', '-std=c11', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
    // SIMD128 and the post-MVP features every engine with SIMD also has.
    '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint', '-msign-ext', '-mmutable-globals',
    '-fno-math-errno', '-ffp-contract=off',
    `-I${join(root, 'kernels', 'cpu')}`,
    '-nostartfiles', '-Wl,--no-entry', '-Wl,--export=__heap_base', '-Wl,-z,stack-size=262144', '-Wl,--strip-all',
    '-o', tmp, ...cfiles.map((f) => relative(root, f)), '-lm',
  ], { cwd: root, stdio: 'inherit' });
  renameSync(tmp, WASM_OUT);
  if (!quiet) {
    const bytes = readFileSync(WASM_OUT);
    console.log(`built ${relative(root, WASM_OUT)} from ${cfiles.length} C files: ${(bytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`);
  }
  return WASM_OUT;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildWasm({ force: process.argv.includes('--force') });
