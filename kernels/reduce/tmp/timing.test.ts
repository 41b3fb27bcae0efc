import { it } from 'vitest';
import { Session } from '../../../core/session.js';
import { sizeOf } from '../../../core/tensor.js';
import { oneNodeModel, randomTensor } from '../../testing/harness.js';

async function time(op: string, dims: number[], attrs: any = {}, opts: any = {}, extra: any[] = []) {
  const x = randomTensor('float32', dims, 1);
  const inputs = [x, ...extra];
  const model = oneNodeModel(op, inputs, attrs, { constInputs: extra.map((_, i) => i + 1), ...opts });
  const s = await Session.load(model, { backend: 'cpu', profile: true });
  const ms: number[] = [];
  for (let i = 0; i < 15; i++) {
    await s.run({ x0: x });
    ms.push(s.report().nodes[0]!.ms!);
  }
  ms.sort((a, b) => a - b);
  const med = ms[7]!;
  const n = sizeOf(dims);
  console.log(`${op} ${JSON.stringify(dims)} ${JSON.stringify(attrs)}: ${med.toFixed(3)} ms, ${(n / med / 1e6).toFixed(2)} Gelem/s in`);
  s.dispose();
}

it('timing', async () => {
  await time('ReduceSum', [256, 4096], { axes: [1] }, { opset: 11 });
  await time('ReduceSum', [4096, 256], { axes: [0] }, { opset: 11 });
  await time('ReduceMax', [256, 4096], { axes: [1] }, { opset: 11 });
  await time('ReduceLogSumExp', [256, 4096], { axes: [1] }, { opset: 11 });
  await time('ArgMax', [256, 4096], { axis: 1 });
  await time('ArgMax', [4096, 256], { axis: 0 });
  await time('GlobalAveragePool', [1, 512, 56, 56]);
  await time('Softmax', [64, 1000], { axis: -1 });
  await time('Softmax', [12, 128, 128], { axis: -1 });
  await time('Softmax', [4, 1000, 64], { axis: 1 });
  await time('LayerNormalization', [512, 768], { axis: -1 }, {}, [randomTensor('float32', [768], 2), randomTensor('float32', [768], 3)]);
  await time('InstanceNormalization', [1, 64, 64, 64], {}, {}, [randomTensor('float32', [64], 2), randomTensor('float32', [64], 3)]);
  await time('BatchNormalization', [1, 64, 112, 112], {}, {}, [1, 2, 3, 4].map((s) => randomTensor('float32', [64], s, [0.1, 1])));
  await time('MaxPool', [1, 64, 112, 112], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  await time('MaxPool', [1, 64, 112, 112], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] });
  await time('AveragePool', [1, 64, 56, 56], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 0 });
}, 300000);
