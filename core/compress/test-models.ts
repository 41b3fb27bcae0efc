import type { Graph, Model, Node } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { randomTensor } from '../../kernels/testing/harness.js';

/** Small float models with every layer shape compression rewrites, for the compress tests. */

export const node = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attrs });

const model = (graph: Graph): Model => ({ opset: 17, producer: 'test', graph });

/** x [batch,6] → MatMul(+Add bias) [.,5] → Relu → Gemm(transB, alpha, beta·C) [.,3]. */
export function denseModel(batch: number | string = 2, k = 6, hidden = 5): Model {
  const init: [string, Tensor][] = [
    ['w1', randomTensor('float32', [k, hidden], 1)], ['b1', randomTensor('float32', [hidden], 2)],
    ['w2', randomTensor('float32', [3, hidden], 3)], ['c2', randomTensor('float32', [1, 3], 4)],
  ];
  return model({
    nodes: [
      node('MatMul', ['x', 'w1'], ['h']), node('Add', ['h', 'b1'], ['hb']), node('Relu', ['hb'], ['r']),
      node('Gemm', ['r', 'w2', 'c2'], ['y'], { transB: 1, alpha: 0.5, beta: 2 }),
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [batch, k] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [batch, 3] }],
    initializers: new Map(init),
  });
}

/** x [1,3,9,9] → Conv 3x3 pad 1 (+bias) → Relu → Conv 3x3 stride 2, groups 2 → Flatten → MatMul. */
export function convModel(): Model {
  const init: [string, Tensor][] = [
    ['k1', randomTensor('float32', [4, 3, 3, 3], 11)], ['kb1', randomTensor('float32', [4], 12)],
    ['k2', randomTensor('float32', [6, 2, 3, 3], 13)], ['wd', randomTensor('float32', [96, 4], 14)],
  ];
  return model({
    nodes: [
      node('Conv', ['x', 'k1', 'kb1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'k2'], ['c2'], { kernel_shape: [3, 3], strides: [2, 2], group: 2 }),
      node('Flatten', ['c2'], ['f']), node('MatMul', ['f', 'wd'], ['y']),
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 9, 9] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, 4] }],
    initializers: new Map(init),
  });
}
