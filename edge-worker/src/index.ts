import cpuKernels from '../../dist/tessera-cpu.wasm';
import { buildApp } from './app.js';

export default buildApp(cpuKernels);
