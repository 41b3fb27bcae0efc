import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attrs, Model, Node } from '../../core/ir/graph.js';
import { fuse } from '../../core/runtime/fuse.js';
import { planModel, type PlannedNode } from '../../core/runtime/plan.js';
import { tensor, type Tensor } from '../../core/tensor.js';
import { AUTO_PADS, convGeometry, type ConvGeometry } from '../testing/conv-cases.js';
import { checkOp, expectClose, randomTensor, runOp } from '../testing/harness.js';
import { chainModel, checkChain, runModel } from '../matmul/test-models.js';
import type { KnownValue, OpDef } from '../op.js';
import { opRegistry } from '../registry.js';

const TOL = { atol: 2e-4, rtol: 2e-4 };
type ConvCase = Pick<ConvGeometry, 'x' | 'w' | 'bias' | 'attrs'>;

/** Random 1-D/2-D Conv problems; `depthwise` pins one input channel per group. */
const convCase = (depthwise: boolean) => convGeometry(depthwise, { minRank: 1, maxCinG: 5, maxCoutG: 7, maxExtra: 9 });

function inputs(c: ConvCase, seed: number, cOut: number): (Tensor | undefined)[] {
  return [randomTensor('float32', c.x, seed), randomTensor('float32', c.w, seed + 1), c.bias ? randomTensor('float32', [cOut], seed + 2) : undefined];
}

describe('Conv matches the reference on WebGPU', () => {
  it('grouped 1-D/2-D with strides, pads, dilations, auto_pad and optional bias', async () => {
    await fc.assert(fc.asyncProperty(convCase(false), fc.nat(), async (c, seed) => {
      await checkOp('Conv', inputs(c, seed, c.w[0]!), c.attrs, { ...TOL, constInputs: [1, 2] });
    }), { numRuns: 16 });
  });

  it('depthwise (with channel multiplier)', async () => {
    await fc.assert(fc.asyncProperty(convCase(true), fc.nat(), async (c, seed) => {
      await checkOp('Conv', inputs(c, seed, c.w[0]!), c.attrs, { ...TOL, constInputs: [1, 2] });
    }), { numRuns: 10 });
  });

  it('pointwise on odd channel and pixel counts', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 9 }), fc.nat(),
      async (cin, cout, h, w, seed) => {
        const c: ConvCase = { x: [1, cin, h, w], w: [cout, cin, 1, 1], bias: true, attrs: {} };
        await checkOp('Conv', inputs(c, seed, cout), c.attrs, { ...TOL, constInputs: [1, 2] });
      }), { numRuns: 6 });
  });

  it('medium: 3x3 32→48 on 33x31, pointwise 48→40, depthwise 5x5 stride 2', async () => {
    const x = randomTensor('float32', [1, 32, 33, 31], 1);
    await checkOp('Conv', [x, randomTensor('float32', [48, 32, 3, 3], 2, [-0.2, 0.2]), randomTensor('float32', [48], 3)], { pads: [1, 1, 1, 1] }, { ...TOL, constInputs: [1, 2] });
    const y = randomTensor('float32', [1, 48, 17, 19], 4);
    await checkOp('Conv', [y, randomTensor('float32', [40, 48, 1, 1], 5, [-0.2, 0.2])], {}, { ...TOL, constInputs: [1] });
    await checkOp('Conv', [y, randomTensor('float32', [48, 1, 5, 5], 6)], { group: 48, strides: [2, 2], auto_pad: 'SAME_UPPER' }, { ...TOL, constInputs: [1] });
  });

  it('fuses a following activation (Relu, Clip, HardSwish, Sigmoid)', async () => {
    const x = randomTensor('float32', [1, 6, 9, 7], 7);
    const clip = { opType: 'Clip', weights: [tensor('float32', [], [0]), tensor('float32', [], [6])] };
    for (const [w, attrs] of [[[8, 6, 3, 3], { pads: [1, 1, 1, 1] }], [[6, 1, 3, 3], { group: 6 }]] as const) {
      for (const act of [{ opType: 'Relu' }, clip, { opType: 'HardSwish' }, { opType: 'Sigmoid' }]) {
        await checkChain(x, [{ opType: 'Conv', weights: [randomTensor('float32', w, 8), randomTensor('float32', [w[0]], 9)], attrs }, act], TOL);
      }
    }
  });

  it('3-D reference agrees with 2-D when depth is 1', async () => {
    const x = randomTensor('float32', [1, 4, 6, 5], 10);
    const w = randomTensor('float32', [3, 4, 3, 2], 11);
    const attrs = { pads: [1, 0, 1, 1], strides: [1, 2] };
    const [two] = await runOp('reference', 'Conv', [x, w], attrs, { constInputs: [1] });
    const lift = (t: Tensor): Tensor => ({ ...t, dims: [t.dims[0]!, t.dims[1]!, 1, ...t.dims.slice(2)] });
    const [three] = await runOp('reference', 'Conv', [lift(x), lift(w)], { pads: [0, 1, 0, 0, 1, 1], strides: [1, 1, 2] }, { constInputs: [1] });
    expectClose(three!, lift(two!));
  });

  it('rejects channel mismatches with a ShapeError', async () => {
    await expect(runOp('reference', 'Conv', [randomTensor('float32', [1, 4, 5, 5], 1), randomTensor('float32', [2, 3, 3, 3], 2)], {}, { constInputs: [1] })).rejects.toThrow(/input channels/);
  });
});

describe('ConvTranspose matches the reference on WebGPU', () => {
  it('strides, pads, dilations, output_padding, output_shape, group, auto_pad', async () => {
    const arb = fc.record({
      rank: fc.integer({ min: 1, max: 2 }),
      group: fc.integer({ min: 1, max: 2 }),
      cinG: fc.integer({ min: 1, max: 3 }),
      coutG: fc.integer({ min: 1, max: 3 }),
      spatial: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 2 }),
      kernel: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
      strides: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
      dilations: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
      pads: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }),
      mode: fc.constantFrom('pads', 'output_shape', ...AUTO_PADS.slice(1)),
      outPad: fc.boolean(),
      bias: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(arb, fc.nat(), async (c, seed) => {
      const r = c.rank;
      const strides = c.strides.slice(0, r);
      const attrs: Record<string, Attrs[string]> = { group: c.group, strides, dilations: c.dilations.slice(0, r) };
      if (c.outPad) attrs.output_padding = strides.map((s) => s - 1);
      if (c.mode === 'pads') {
        const pads = [...c.pads.slice(0, r), ...c.pads.slice(2, 2 + r)];
        const full = (i: number): number => strides[i]! * (c.spatial[i]! - 1) + (c.outPad ? strides[i]! - 1 : 0) + (c.kernel[i]! - 1) * c.dilations[i]! + 1;
        fc.pre(pads.slice(0, r).every((p, i) => full(i) - p - pads[i + r]! >= 1));
        attrs.pads = pads;
      }
      else if (c.mode === 'output_shape') attrs.output_shape = c.spatial.slice(0, r).map((n, i) => n * strides[i]!);
      else attrs.auto_pad = c.mode;
      const cOut = c.group * c.coutG;
      const ins = [
        randomTensor('float32', [1, c.group * c.cinG, ...c.spatial.slice(0, r)], seed),
        randomTensor('float32', [c.group * c.cinG, c.coutG, ...c.kernel.slice(0, r)], seed + 1),
        c.bias ? randomTensor('float32', [cOut], seed + 2) : undefined,
      ];
      await checkOp('ConvTranspose', ins, attrs, { ...TOL, constInputs: [1, 2] });
    }), { numRuns: 20 });
  });

  it('matches a hand-computed 1-D case', async () => {
    const [y] = await runOp('webgpu', 'ConvTranspose', [tensor('float32', [1, 1, 3], [1, 2, 3]), tensor('float32', [1, 1, 2], [1, 10])], { strides: [2] }, { constInputs: [1] });
    expect([...y!.data]).toEqual([1, 10, 2, 20, 3, 30]);
  });
});

describe('BatchNormalization folds into a preceding Conv', () => {
  const x = randomTensor('float32', [1, 5, 9, 8], 20);
  const w = randomTensor('float32', [6, 5, 3, 3], 21);
  const b = randomTensor('float32', [6], 22);
  const gamma = randomTensor('float32', [6], 23);
  const beta = randomTensor('float32', [6], 24);
  const mean = randomTensor('float32', [6], 25);
  const variance = randomTensor('float32', [6], 26, [0.1, 2]);
  const convAttrs = { pads: [1, 1, 1, 1], strides: [1, 2] };

  /** Conv, then inference BatchNormalization, then Relu, written out independently of the fold. */
  function expected(): Tensor {
    const [y] = opRegistry.Conv!.reference([x, w, b], { node: { name: 'c', opType: 'Conv', domain: '', inputs: [], outputs: [], attrs: convAttrs }, opset: 17 });
    const plane = y!.dims[2]! * y!.dims[3]!;
    const data = Float32Array.from(y!.data, (v, i) => {
      const c = Math.floor(i / plane) % 6;
      return Math.max(0, ((v - mean.data[c]!) / Math.sqrt(variance.data[c]! + 1e-3)) * gamma.data[c]! + beta.data[c]!);
    });
    return { ...y!, data };
  }

  const known = (t: Tensor): KnownValue => ({ dtype: t.dtype, dims: t.dims, value: t });
  const info = (dims: readonly number[]): KnownValue => ({ dtype: 'float32', dims });
  const node = (opType: string, inputs: string[], output: string, attrs: Attrs = {}): Node => ({ name: opType, opType, domain: '', inputs, outputs: [output], attrs });
  const passThrough: OpDef = { shape: ([v]) => [v!], reference: ([v]) => [v!] };

  it('the fold pass yields one Conv+Relu whose folded constants run on WebGPU', async () => {
    const yDims = [1, 6, 9, 4];
    const planned: PlannedNode[] = [
      { node: node('Conv', ['x', 'w', 'b'], 'y', convAttrs), def: opRegistry.Conv!, inputs: [info(x.dims), known(w), known(b)], outputs: [info(yDims)] },
      {
        node: node('BatchNormalization', ['y', 'g', 'be', 'm', 'v'], 'z', { epsilon: 1e-3 }), def: opRegistry.BatchNormalization ?? passThrough,
        inputs: [info(yDims), known(gamma), known(beta), known(mean), known(variance)], outputs: [info(yDims)],
      },
      { node: node('Relu', ['z'], 'out'), def: opRegistry.Relu!, inputs: [info(yDims)], outputs: [info(yDims)] },
    ];
    const fused = fuse(planned, new Set(['out']));
    expect(fused.map((p) => [p.node.opType, p.node.attrs._activation])).toEqual([['Conv', 'Relu']]);
    const [conv] = fused;
    const initializers = new Map(conv!.node.inputs.slice(1).map((name, i) => [name, conv!.inputs[i + 1]!.value!]));
    const model: Model = {
      opset: 17, producer: 'tessera-test',
      graph: { nodes: [{ ...conv!.node, inputs: ['x', ...initializers.keys()] }], inputs: [{ name: 'x', dtype: 'float32', dims: x.dims }], outputs: [{ name: 'out', dtype: 'float32', dims: [] }], initializers },
    };
    expectClose(await runModel(model, x, 'webgpu'), expected(), TOL);
  });

  it.skipIf(!opRegistry.BatchNormalization)('a Conv→BatchNormalization→Relu model plans to one node and matches', async () => {
    const steps = [
      { opType: 'Conv', weights: [w, b], attrs: convAttrs },
      { opType: 'BatchNormalization', weights: [gamma, beta, mean, variance], attrs: { epsilon: 1e-3 } },
      { opType: 'Relu' },
    ];
    expect(planModel(chainModel(x, steps)).nodes).toHaveLength(1);
    expectClose(await checkChain(x, steps, TOL), expected(), TOL);
  });
});

describe('Conv with a fused residual (input 3) matches the reference on every backend', () => {
  /** Conv inputs plus a residual of the conv output's shape, as the planner's fused node has them. */
  function withResidual(c: ConvCase, seed: number): (Tensor | undefined)[] {
    const ins = inputs(c, seed, c.w[0]!);
    const known = ins.map((v) => v && { dtype: v.dtype, dims: v.dims });
    const node: Node = { name: 'c', opType: 'Conv', domain: '', inputs: [], outputs: [], attrs: c.attrs };
    const [out] = opRegistry.Conv!.shape(known, { node, opset: 17 });
    return [...ins, randomTensor('float32', out!.dims, seed + 3)];
  }

  it('grouped and depthwise 1-D/2-D, with a fused activation', async () => {
    for (const depthwise of [false, true]) {
      await fc.assert(fc.asyncProperty(convCase(depthwise), fc.nat(), fc.boolean(), async (c, seed, relu) => {
        const attrs = relu ? { ...c.attrs, _activation: 'Relu', _alpha: 0, _beta: 0 } : c.attrs;
        await checkOp('Conv', withResidual(c, seed), attrs, { ...TOL, constInputs: [1, 2] });
      }), { numRuns: 8 });
    }
  });

  it('rejects a residual of another shape', async () => {
    const x = randomTensor('float32', [1, 2, 4, 4], 1);
    const ins = [x, randomTensor('float32', [3, 2, 1, 1], 2), undefined, randomTensor('float32', [1, 3, 1, 4], 3)];
    await expect(runOp('reference', 'Conv', ins, {}, { constInputs: [1] })).rejects.toThrow(/residual/);
  });
});

describe('Conv → Add(skip) → Relu plans to one Conv and matches the reference', () => {
  const x = randomTensor('float32', [1, 8, 9, 7], 30);
  const cases: [string, number[], Attrs][] = [
    ['pointwise', [8, 8, 1, 1], {}], ['3x3 padded', [8, 8, 3, 3], { pads: [1, 1, 1, 1] }],
    ['depthwise', [8, 1, 3, 3], { group: 8, pads: [1, 1, 1, 1] }], ['1x3 (Winograd-shaped on the CPU)', [8, 8, 1, 3], { pads: [0, 1, 0, 1] }],
  ];
  for (const [label, w, attrs] of cases) {
    it(`${label}: a constant skip, and the block input itself as skip on either side of the Add`, async () => {
      const steps = [
        { opType: 'Conv', weights: [randomTensor('float32', w, 31, [-0.3, 0.3]), randomTensor('float32', [8], 32)], attrs },
        { opType: 'Add', weights: [randomTensor('float32', x.dims, 33)] }, { opType: 'Relu' },
      ];
      const plan = planModel(chainModel(x, steps)).nodes;
      expect(plan.map((p) => [p.node.opType, p.node.inputs.length, p.node.attrs._activation])).toEqual([['Conv', 4, 'Relu']]);
      await checkChain(x, steps, TOL);
      const chain = chainModel(x, steps);
      const [conv, add, relu] = chain.graph.nodes;
      for (const skipFirst of [false, true]) {
        const residual = { ...add!, inputs: skipFirst ? ['x', 'v0'] : ['v0', 'x'] };
        const model = { ...chain, graph: { ...chain.graph, nodes: [conv!, residual, relu!] } };
        expect(planModel(model).nodes).toHaveLength(1);
        const ref = await runModel(model, x, 'reference');
        expectClose(await runModel(model, x, 'webgpu'), ref, TOL, 'webgpu');
        expectClose(await runModel(model, x, 'cpu'), ref, TOL, 'cpu');
      }
    });
  }
});
