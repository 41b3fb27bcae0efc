import fc from 'fast-check';
import type { Attrs } from '../../core/ir/graph.js';

export const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

/** One random grouped convolution: the float Conv tests and the int8 QConv tests draw the same kind. */
export interface ConvGeometry {
  /** Input dims [N, C, ...spatial]. */
  readonly x: number[];
  /** Weight dims [Cout, C/group, ...kernel]. */
  readonly w: number[];
  readonly kernel: number[];
  readonly bias: boolean;
  /** group, strides, dilations, auto_pad and (with NOTSET) pads; kernel_shape is left to the caller. */
  readonly attrs: Attrs;
}

export interface ConvBounds {
  /** Spatial rank drawn in [minRank, 2]. */
  readonly minRank: 1 | 2;
  readonly maxCinG: number;
  readonly maxCoutG: number;
  /** How much larger than the dilated kernel each spatial input dim may be. */
  readonly maxExtra: number;
}

/** Random conv problems; `depthwise` pins one input channel per group. */
export const convGeometry = (depthwise: boolean, b: ConvBounds): fc.Arbitrary<ConvGeometry> =>
  fc.record({
    rank: fc.integer({ min: b.minRank, max: 2 }),
    batch: fc.integer({ min: 1, max: 2 }),
    group: depthwise ? fc.integer({ min: 2, max: 9 }) : fc.integer({ min: 1, max: 3 }),
    cinG: depthwise ? fc.constant(1) : fc.integer({ min: 1, max: b.maxCinG }),
    coutG: depthwise ? fc.integer({ min: 1, max: 2 }) : fc.integer({ min: 1, max: b.maxCoutG }),
    kernel: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
    extra: fc.array(fc.integer({ min: 0, max: b.maxExtra }), { minLength: 2, maxLength: 2 }),
    strides: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
    dilations: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
    pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
    autoPad: fc.constantFrom(...AUTO_PADS),
    bias: fc.boolean(),
  }).map((c): ConvGeometry => {
    const r = c.rank;
    const kernel = c.kernel.slice(0, r);
    const dilations = c.dilations.slice(0, r);
    // Inputs at least as large as the dilated kernel, so every auto_pad mode has an output.
    const spatial = kernel.map((k, i) => (k - 1) * dilations[i]! + 1 + c.extra[i]!);
    const pads = [...c.pads.slice(0, r), ...c.pads.slice(2, 2 + r)];
    return {
      x: [c.batch, c.group * c.cinG, ...spatial],
      w: [c.group * c.coutG, c.cinG, ...kernel],
      kernel,
      bias: c.bias,
      attrs: { group: c.group, strides: c.strides.slice(0, r), dilations, auto_pad: c.autoPad, ...(c.autoPad === 'NOTSET' ? { pads } : {}) },
    };
  });
