import { buildWasm } from './build-wasm.mjs';

/** Kernel tests run the CPU kernels: rebuild their wasm first when a C source is newer. */
export default function setup(): void {
  buildWasm();
}
