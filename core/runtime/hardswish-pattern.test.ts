import { describe, expect, it } from 'vitest';
import type { Model, Node } from '../ir/graph.js';
import { tensor, type Tensor } from '../tensor.js';
import { planModel } from './plan.js';
import { runReference } from './reference-executor.js';

const node = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attrs });

/** MatMul, then HardSwish spelled out as exporters without the op write it. */
function spelledOut(outputs: string[], opset = 13): Model {
  const clip = opset >= 11 ? node('Clip', ['a', 'zero', 'six'], ['c']) : node('Clip', ['a'], ['c'], { min: 0, max: 6 });
  return {
    opset,
    producer: 'test',
    graph: {
      inputs: [{ name: 'x', dtype: 'float32', dims: [3, 4] }],
      outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [] })),
      initializers: new Map<string, Tensor>([
        ['w', tensor('float32', [4, 5], Array.from({ length: 20 }, (_, i) => (i % 7) - 3))],
        ['three', tensor('float32', [], [3])], ['six', tensor('float32', [], [6])], ['zero', tensor('float32', [], [0])],
      ]),
      nodes: [node('MatMul', ['x', 'w'], ['h']), node('Add', ['h', 'three'], ['a']), clip, node('Mul', ['h', 'c'], ['m']), node('Div', ['m', 'six'], ['y'])],
    },
  };
}

const x = tensor('float32', [3, 4], Array.from({ length: 12 }, (_, i) => (i - 6) / 2));
const hardSwish = (v: number): number => v * Math.min(Math.max(v + 3, 0), 6) / 6;

describe('HardSwish written out as Add/Clip/Mul/Div', () => {
  for (const opset of [9, 13]) {
    it(`becomes one MatMul with a HardSwish epilogue (opset ${opset}) and computes the same`, () => {
      const plan = planModel(spelledOut(['y'], opset));
      expect(plan.nodes.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([['MatMul', 'HardSwish']]);
      const y = runReference(plan, new Map([['x', x]])).get('y')!;
      const h = runReference(planModel({ ...spelledOut(['h'], opset) }), new Map([['x', x]])).get('h')!;
      y.data.forEach((v, i) => expect(v).toBeCloseTo(hardSwish(h.data[i]!), 5));
    });
  }

  it('is left alone when an intermediate is visible (a graph output)', () => {
    const plan = planModel(spelledOut(['y', 'c']));
    expect(plan.nodes.map((p) => p.node.opType)).toEqual(['MatMul', 'Add', 'Clip', 'Mul', 'Div']);
  });
});
