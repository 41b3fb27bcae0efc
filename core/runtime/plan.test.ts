import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import { tensor, type Tensor } from '../tensor.js';
import { planModel } from './plan.js';
import { runReference } from './reference-executor.js';
import { Session } from '../session.js';

function node(opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node {
  return { name: `${opType}:${outputs[0]}`, opType, domain: '', inputs, outputs, attrs };
}

function model(nodes: Node[], inputs: Graph['inputs'], outputs: string[], initializers: [string, Tensor][] = []): Model {
  return {
    opset: 17,
    producer: 'test',
    graph: { nodes, inputs, outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [] })), initializers: new Map(initializers) },
  };
}

describe('planner', () => {
  it('folds everything computable at load, leaving only nodes that read feeds', () => {
    const m = model(
      [node('Add', ['a', 'b'], ['ab']), node('Mul', ['ab', 'x'], ['y']), node('Neg', ['b'], ['unused'])],
      [{ name: 'x', dtype: 'float32', dims: [2] }],
      ['y'],
      [['a', tensor('float32', [2], [1, 2])], ['b', tensor('float32', [2], [3, 4])]],
    );
    const plan = planModel(m);
    expect(plan.nodes.map((p) => p.node.opType)).toEqual(['Mul']);
    expect([...plan.constants.get('ab')!.data]).toEqual([4, 6]);
    const out = runReference(plan, new Map([['x', tensor('float32', [2], [10, 100])]]));
    expect([...out.get('y')!.data]).toEqual([40, 600]);
  });

  it('inlines the chosen branch of an If whose condition is known at load', () => {
    const branch = (op: string): Graph => ({
      nodes: [node(op, ['x'], [`${op}_out`])], inputs: [], outputs: [{ name: `${op}_out`, dtype: 'float32', dims: [2] }], initializers: new Map(),
    });
    const m = model(
      [node('If', ['cond'], ['y'], { then_branch: branch('Relu'), else_branch: branch('Neg') })],
      [{ name: 'x', dtype: 'float32', dims: [2] }],
      ['y'],
      [['cond', tensor('bool', [], [0])]],
    );
    const plan = planModel(m);
    expect(plan.nodes.map((p) => p.node.opType)).toEqual(['Neg', 'Identity']);
    const out = runReference(plan, new Map([['x', tensor('float32', [2], [-1, 2])]]));
    expect([...out.get('y')!.data]).toEqual([1, -2]);
  });

  it('plans both branches of an If known only at run time and selects with Where', async () => {
    const branch = (op: string): Graph => ({
      nodes: [node(op, ['x'], [`${op}_out`])], inputs: [], outputs: [{ name: `${op}_out`, dtype: 'float32', dims: [2] }], initializers: new Map(),
    });
    const m = model(
      [node('Greater', ['s', 'zero'], ['cond']), node('If', ['cond'], ['y'], { then_branch: branch('Relu'), else_branch: branch('Neg') })],
      [{ name: 'x', dtype: 'float32', dims: [2] }, { name: 's', dtype: 'float32', dims: [] }],
      ['y'],
      [['zero', tensor('float32', [], [0])]],
    );
    const plan = planModel(m);
    expect(plan.nodes.map((p) => p.node.opType)).toEqual(['Greater', 'Relu', 'Neg', 'Where']);
    const run = (s: number) => [...runReference(plan, new Map([
      ['x', tensor('float32', [2], [-1, 2])], ['s', tensor('float32', [], [s])],
    ])).get('y')!.data];
    expect(run(1)).toEqual([0, 2]);
    expect(run(-1)).toEqual([1, -2]);
    expect(plan.nodes.map((p) => p.guards?.map((g) => g.when))).toEqual([undefined, [true], [false], undefined]);
    // The CPU skips the side not selected; both ways round it still answers right.
    const session = await Session.load(m, { backend: 'cpu' });
    try {
      for (const [s, want] of [[1, [0, 2]], [-1, [1, -2]]] as const) {
        const out = await session.run({ x: tensor('float32', [2], [-1, 2]), s: tensor('float32', [], [s]) });
        expect([...out.y!.data]).toEqual(want);
      }
    } finally {
      session.dispose();
    }
  });

  it('lists every unsupported node, by op and node name, before doing anything else', () => {
    const m = model(
      [node('LSTM', ['x'], ['a']), { ...node('Foo', ['a'], ['y']), domain: 'com.example' }],
      [{ name: 'x', dtype: 'float32', dims: [2] }],
      ['y'],
    );
    const err = (() => { try { planModel(m); } catch (e) { return e; } })() as UnsupportedOpError;
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect(err.nodes.map((n) => n.opType)).toEqual(['LSTM', 'Foo']);
    expect(err.message).toContain('LSTM:a');
  });

  it('accepts com.tessera nodes whose op is registered, and fuses a following activation into them', () => {
    const k = 6;
    const w = tensor('int32', [3, 2], [0x01020304, 0x0506, -1, 0x7f, 0x10, 0x20]);
    const m = model(
      [{ ...node('QMatMul', ['x', 'w', 'ws'], ['q'], { k }), domain: 'com.tessera' }, node('Relu', ['q'], ['y'])],
      [{ name: 'x', dtype: 'float32', dims: [2, k] }],
      ['y'],
      [['w', w], ['ws', tensor('float32', [3], [0.1, 0.2, 0.3])]],
    );
    const plan = planModel(m);
    expect(plan.nodes.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([['QMatMul', 'Relu']]);
    const x = tensor('float32', [2, k], [1, -2, 3, -4, 5, -6, 0.5, 0.25, -1, 2, -3, 0]);
    expect([...runReference(plan, new Map([['x', x]])).get('y')!.data].every((v) => v >= 0)).toBe(true);
  });

  it('refuses other domains, and com.tessera op names used in the ONNX domain', () => {
    const m = model(
      [node('QMatMul', ['x'], ['a'], { k: 2 }), { ...node('QMatMul', ['a'], ['b'], { k: 2 }), domain: 'com.example' }, { ...node('Relu', ['b'], ['y']), domain: 'com.tessera' }],
      [{ name: 'x', dtype: 'float32', dims: [2] }],
      ['y'],
    );
    const err = (() => { try { planModel(m); } catch (e) { return e; } })() as UnsupportedOpError;
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect(err.nodes.map((n) => `${n.domain}/${n.opType}`)).toEqual(['/QMatMul', 'com.example/QMatMul', 'com.tessera/Relu']);
  });

  it('rejects a node reading a value nothing produces', () => {
    const m = model([node('Relu', ['nowhere'], ['y'])], [], ['y']);
    expect(() => planModel(m)).toThrow(ModelFormatError);
  });

  it('binds symbolic input dims from options, else to 1', () => {
    const m = model([node('Relu', ['x'], ['y'])], [{ name: 'x', dtype: 'float32', dims: ['batch', 3] }], ['y']);
    expect(planModel(m).outputs[0]!.dims).toEqual([1, 3]);
    expect(planModel(m, { symbols: { batch: 4 } }).outputs[0]!.dims).toEqual([4, 3]);
    expect(planModel(m, { inputDims: { x: [2, 3] } }).outputs[0]!.dims).toEqual([2, 3]);
  });
});
