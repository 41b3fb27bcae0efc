/**
 * Timing harness for the matmul/conv kernels (not a test): each case is a small model run 50 times
 * through a WebGPU Session after a warm-up. Run:
 *   npx esbuild kernels/conv/perf.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --packages=external --outfile=node_modules/.cache/tessera-perf.mjs && node node_modules/.cache/tessera-perf.mjs
 */
import type { Tensor } from '../../core/tensor.js';
import { Session } from '../../core/session.js';
import { randomTensor, testDevice } from '../testing/harness.js';
import { chainModel, type ChainStep } from '../matmul/test-models.js';

const w = (dims: number[], seed: number): Tensor => randomTensor('float32', dims, seed, [-0.1, 0.1]);

/** BlazeFace-like: 5x5 stride-2 stem, then depthwise 3x3 + pointwise blocks. */
function blazeStack(): ChainStep[] {
  const steps: ChainStep[] = [{ opType: 'Conv', weights: [w([24, 3, 5, 5], 1), w([24], 2)], attrs: { strides: [2, 2], pads: [1, 1, 2, 2] } }, { opType: 'Relu' }];
  let c = 24;
  for (let i = 0; i < 8; i++) {
    const next = i < 4 ? 24 + 4 * i : 48 + 8 * (i - 4);
    const stride = i === 4 ? 2 : 1;
    steps.push({ opType: 'Conv', weights: [w([c, 1, 3, 3], 10 + i), w([c], 20 + i)], attrs: { group: c, strides: [stride, stride], pads: [1, 1, 1, 1] } });
    steps.push({ opType: 'Conv', weights: [w([next, c, 1, 1], 30 + i), w([next], 40 + i)] }, { opType: 'Relu' });
    c = next;
  }
  return steps;
}

const cases: [string, Tensor, ChainStep[]][] = [
  ['baseline: Relu [1,96,32,32]', randomTensor('float32', [1, 96, 32, 32], 1), [{ opType: 'Relu' }]],
  ['depthwise 3x3 [1,96,32,32]', randomTensor('float32', [1, 96, 32, 32], 1), [{ opType: 'Conv', weights: [w([96, 1, 3, 3], 2)], attrs: { group: 96, pads: [1, 1, 1, 1] } }]],
  ['pointwise 96→96 [1,96,32,32]', randomTensor('float32', [1, 96, 32, 32], 1), [{ opType: 'Conv', weights: [w([96, 96, 1, 1], 3)] }]],
  ['3x3 48→48 [1,48,32,32]', randomTensor('float32', [1, 48, 32, 32], 1), [{ opType: 'Conv', weights: [w([48, 48, 3, 3], 4)], attrs: { pads: [1, 1, 1, 1] } }]],
  ['MatMul 256x256x256', randomTensor('float32', [256, 256], 1), [{ opType: 'MatMul', weights: [w([256, 256], 5)] }]],
  ['Gemm MLP 1x1536→96 ×3', randomTensor('float32', [1, 1536], 1), [
    { opType: 'Gemm', weights: [w([96, 1536], 6), w([96], 7)], attrs: { transB: 1 } }, { opType: 'Relu' },
    { opType: 'Gemm', weights: [w([96, 96], 8), w([96], 9)], attrs: { transB: 1 } }, { opType: 'Relu' },
    { opType: 'Gemm', weights: [w([1, 96], 10), w([1], 11)], attrs: { transB: 1 } }, { opType: 'Sigmoid' }]],
  ['BlazeFace-like stack 128x128', randomTensor('float32', [1, 3, 128, 128], 1), blazeStack()],
];

const only = process.argv[2];
const { device } = await testDevice();
for (const [name, x, steps] of cases) {
  if (only && !name.includes(only)) continue;
  const session = await Session.load(chainModel(x, steps), { backend: 'webgpu', device });
  for (let i = 0; i < 3; i++) await session.run({ x });
  const runs = 50;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) await session.run({ x });
  // CPU time (SwiftShader's worker threads included) is steadier than wall time on a shared machine.
  const cpu = process.cpuUsage(c0);
  console.log(`${name.padEnd(32)} ${((performance.now() - t0) / runs).toFixed(2)} ms/run wall, ${((cpu.user + cpu.system) / 1000 / runs).toFixed(2)} ms/run cpu`);
  session.dispose();
}
process.exit(0);
