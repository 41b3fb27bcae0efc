import { describe, expect, it } from 'vitest';
import type { Model, Node } from '../ir/graph.js';
import { randomTensor } from '../../kernels/testing/harness.js';
import type { Tensor } from '../tensor.js';
import { planModel } from './plan.js';
import { runReference } from './reference-executor.js';

const node = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attrs });

const x = randomTensor('float32', [1, 4, 5, 6], 1);
const initializers = (): Map<string, Tensor> => new Map([
  ['w', randomTensor('float32', [4, 4, 1, 1], 2)], ['b', randomTensor('float32', [4], 3)], ['cb', randomTensor('float32', [1, 4, 1, 1], 4)],
]);

/** x → Conv → c, then `rest` (reading c), as a model with outputs `outputs`. */
function model(rest: Node[], outputs: string[]): Model {
  return {
    opset: 17,
    producer: 'test',
    graph: {
      inputs: [{ name: 'x', dtype: 'float32', dims: x.dims }, { name: 'flag', dtype: 'bool', dims: [] }],
      outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [] })),
      initializers: initializers(),
      nodes: [node('Conv', ['x', 'w', 'b'], ['c']), ...rest],
    },
  };
}

const ops = (m: Model): [string, number, unknown][] => planModel(m).nodes.map((p) => [p.node.opType, p.node.inputs.length, p.node.attrs._activation]);

describe('Conv → Add(conv, skip) fuses the Add into the conv', () => {
  for (const adds of [['c', 'x'], ['x', 'c']]) {
    it(`Conv → Add(${adds.join(', ')}) → Relu is one Conv with the skip as input 3 and a Relu epilogue, and computes the same`, () => {
      const fused = model([node('Add', adds, ['s']), node('Relu', ['s'], ['y'])], ['y']);
      expect(ops(fused)).toEqual([['Conv', 4, 'Relu']]);
      expect(planModel(fused).nodes[0]!.node.inputs).toEqual(['x', 'w', 'b', 'x']);
      // Exposing the conv output keeps the Add: the unfused oracle.
      const plain = model([node('Add', adds, ['s']), node('Relu', ['s'], ['y'])], ['y', 'c']);
      expect(ops(plain).map(([op]) => op)).toEqual(['Conv', 'Add', 'Relu']);
      const feeds = new Map([['x', x], ['flag', { dtype: 'bool' as const, dims: [], data: new Uint8Array([1]) }]]);
      const got = runReference(planModel(fused), feeds).get('y')!;
      const want = runReference(planModel(plain), feeds).get('y')!;
      expect(got.dims).toEqual(want.dims);
      got.data.forEach((v, i) => expect(v).toBeCloseTo(want.data[i]!, 5));
    });
  }

  it('is left alone when the conv output has another reader or is a graph output', () => {
    expect(ops(model([node('Add', ['c', 'x'], ['s']), node('Mul', ['c', 's'], ['y'])], ['y'])).map(([op]) => op)).toEqual(['Conv', 'Add', 'Mul']);
    expect(ops(model([node('Add', ['c', 'x'], ['y'])], ['y', 'c'])).map(([op]) => op)).toEqual(['Conv', 'Add']);
  });

  it('is left alone when the other operand broadcasts', () => {
    expect(ops(model([node('Add', ['c', 'cb'], ['y'])], ['y'])).map(([op]) => op)).toEqual(['Conv', 'Add']);
  });

  it('a second Add after a fused one stays an Add', () => {
    expect(ops(model([node('Add', ['c', 'x'], ['s']), node('Add', ['s', 'x'], ['y'])], ['y']))).toEqual([['Conv', 4, undefined], ['Add', 2, undefined]]);
  });

  const branch = (nodes: Node[], output: string) => ({ inputs: [], outputs: [{ name: output, dtype: 'float32' as const, dims: [] }], initializers: new Map(), nodes });
  const neg = branch([node('Neg', ['x'], ['n'])], 'n');

  it('fuses inside the branch of an If decided at run time, under that branch guard', () => {
    const m = model([], ['y']);
    const body = branch([node('Conv', ['x', 'w', 'b'], ['c']), node('Add', ['c', 'x'], ['s'])], 's');
    const plan = planModel({ ...m, graph: { ...m.graph, nodes: [node('If', ['flag'], ['y'], { then_branch: body, else_branch: neg })] } });
    expect(plan.nodes.map((p) => [p.node.opType, p.node.inputs.length, p.guards?.map((g) => g.when)])).toEqual([
      ['Conv', 4, [true]], ['Neg', 1, [false]], ['Where', 3, undefined],
    ]);
  });

  it('is left alone across an If-branch boundary (Conv outside, Add inside)', () => {
    const plan = planModel(model([node('If', ['flag'], ['y'], { then_branch: branch([node('Add', ['c', 'x'], ['s'])], 's'), else_branch: neg })], ['y']));
    expect(plan.nodes.map((p) => [p.node.opType, p.guards?.map((g) => g.when)])).toEqual([
      ['Conv', undefined], ['Add', [true]], ['Neg', [false]], ['Where', undefined],
    ]);
  });
});
