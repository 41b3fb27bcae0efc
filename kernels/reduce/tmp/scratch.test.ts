import { it } from 'vitest';
import { tensor } from '../../../core/tensor.js';
import { checkOp, randomTensor, runOp, expectClose } from '../../testing/harness.js';

const f = (dims: number[], data: number[]) => tensor('float32', dims, Float32Array.from(data));
async function both(op: string, inputs: any[], attrs: any = {}, opts: any = {}) {
  for (const b of ['cpu', 'webgpu', 'reference'] as const) {
    try { const r = await runOp(b, op, inputs, attrs, opts); console.log(op, b, r.map((t) => `${t.dims} ${Array.from(t.data).slice(0, 12)}`).join(' | ')); }
    catch (e) { console.log(op, b, 'ERR', (e as Error).message.slice(0, 200)); }
  }
}
it('scratch', async () => {
  await both('ReduceSum', [randomTensor('float32', [0, 3], 1)], { axes: [0] }, { opset: 11 });
  await both('ReduceMax', [randomTensor('float32', [3, 0], 1)], { axes: [1] }, { opset: 11 });
  await both('ReduceMean', [randomTensor('float32', [3, 0], 1)], { axes: [1] }, { opset: 11 });
  await both('ReduceMax', [f([2, 5], [1, NaN, 3, 4, 5, 1, 2, 3, 4, 5])], { axes: [1] }, { opset: 11 });
  await both('ArgMax', [f([2, 5], [NaN, 1, 3, 4, 5, 1, NaN, 3, 4, 5])], { axis: 1 });
  await both('Softmax', [f([2, 5], [NaN, 1, 3, 4, 5, 1, -Infinity, 3, 4, 5])], { axis: 1 });
  await both('MaxPool', [f([1, 1, 5], [NaN, 1, 3, 4, 5])], { kernel_shape: [2] });
  await both('Softmax', [randomTensor('float32', [0, 3], 1)], { axis: 1 });
  await both('LayerNormalization', [randomTensor('float32', [2, 0], 1), randomTensor('float32', [0], 1)], { axis: 1 }, { outputs: 3 });
  await both('BatchNormalization', [randomTensor('float32', [0, 2, 3], 1), f([2], [1, 2]), f([2], [1, 2]), f([2], [1, 2]), f([2], [1, 2])], {}, { constInputs: [1, 2, 3, 4] });
  await both('ReduceSum', [randomTensor('float32', [], 1)], {}, { opset: 11 });
  await both('MaxPool', [randomTensor('float32', [0, 2, 5], 1)], { kernel_shape: [2] });
});
