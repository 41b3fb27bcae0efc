import { describe, expect, it } from 'vitest';
import type { Model, Node } from '../ir/graph.js';
import { tensor, type Tensor } from '../tensor.js';
import { planModel } from './plan.js';
import { runReference } from './reference-executor.js';

const node = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attrs });

/** LayerNorm over the trailing `axes` of x [2, 3, 5], written out as PyTorch exports it before opset 17. */
function spelledOut(outputs: string[], axes: number[], gammaDims: number[]): Model {
  const n = gammaDims.reduce((a, b) => a * b, 1);
  return {
    opset: 13,
    producer: 'test',
    graph: {
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 5] }],
      outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [] })),
      initializers: new Map<string, Tensor>([
        ['two', tensor('float32', [], [2])], ['eps', tensor('float32', [], [1e-5])],
        ['gamma', tensor('float32', gammaDims, Array.from({ length: n }, (_, i) => 0.5 + i / 7))],
        ['beta', tensor('float32', gammaDims, Array.from({ length: n }, (_, i) => i / 3 - 1))],
      ]),
      nodes: [
        node('ReduceMean', ['x'], ['mean'], { axes }), node('Sub', ['x', 'mean'], ['d']), node('Pow', ['d', 'two'], ['sq']),
        node('ReduceMean', ['sq'], ['var'], { axes }), node('Add', ['var', 'eps'], ['ve']), node('Sqrt', ['ve'], ['std']),
        node('Div', ['d', 'std'], ['n']), node('Mul', ['n', 'gamma'], ['scaled']), node('Add', ['scaled', 'beta'], ['y']),
      ],
    },
  };
}

const x = tensor('float32', [2, 3, 5], Array.from({ length: 30 }, (_, i) => Math.sin(i * 1.3) * 3 + (i % 4)));

describe('LayerNormalization written out in primitives', () => {
  for (const [axes, gammaDims] of [[[-1], [5]], [[1, 2], [3, 5]], [[2], [1, 5]]] as const) {
    it(`becomes one LayerNormalization node over axes [${axes}] and computes the same`, () => {
      const fused = planModel(spelledOut(['y'], [...axes], [...gammaDims]));
      expect(fused.nodes.map((p) => p.node.opType)).toEqual(['LayerNormalization']);
      // Exposing an intermediate keeps the pattern spelled out: the unfused oracle.
      const plain = planModel(spelledOut(['y', 'd'], [...axes], [...gammaDims]));
      expect(plain.nodes).toHaveLength(9);
      const feeds = new Map([['x', x]]);
      const got = runReference(fused, feeds).get('y')!;
      const want = runReference(plain, feeds).get('y')!;
      expect(got.dims).toEqual(want.dims);
      got.data.forEach((v, i) => expect(v).toBeCloseTo(want.data[i]!, 5));
    });
  }

  it('inside the branch of an If decided at run time, runs under that branch guard', () => {
    const inner = spelledOut(['y'], [-1], [5]);
    const m: Model = {
      ...inner,
      graph: {
        inputs: [...inner.graph.inputs, { name: 'c', dtype: 'bool', dims: [] }],
        outputs: [{ name: 'out', dtype: 'float32', dims: [] }],
        initializers: new Map(),
        nodes: [node('If', ['c'], ['out'], {
          then_branch: { ...inner.graph, inputs: [] },
          else_branch: { inputs: [], outputs: [{ name: 'neg', dtype: 'float32', dims: [] }], initializers: new Map(), nodes: [node('Neg', ['x'], ['neg'])] },
        })],
      },
    };
    const plan = planModel(m);
    expect(plan.nodes.map((p) => [p.node.opType, p.guards?.map((g) => g.when)])).toEqual([
      ['LayerNormalization', [true]], ['Neg', [false]], ['Where', undefined],
    ]);
  });

  it('is left alone when the axes are not the trailing ones', () => {
    expect(planModel(spelledOut(['y'], [1], [1, 5])).nodes).toHaveLength(9);
  });
});
