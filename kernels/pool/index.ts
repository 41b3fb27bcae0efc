import { ShapeError, UnsupportedOpError } from '../../core/errors.js';
import { attrInt, type Node, type ValueInfo } from '../../core/ir/graph.js';
import { sizeOf, type Tensor } from '../../core/tensor.js';
import type { OpDef } from '../op.js';
import { reduceCall, reduceProgram } from '../reduce/reduce-program.js';
import { REDUCERS } from '../reduce/reducers.js';
import { windowAttrs, windowGeometry, type WindowAttrs, type WindowGeometry } from '../shared/pool-geometry.js';
import { dispatch1d, NAN_FNS, paramsDecl, Params } from '../wgsl.js';
import poolWgsl from './pool.wgsl';

/**
 * MaxPool, AveragePool (1-D to 3-D windows, see pool.wgsl and its C twin pool.c) and
 * GlobalMaxPool/GlobalAveragePool (a ReduceMax/ReduceMean over the spatial axes, which gets the
 * row-reduction kernels: workgroup-wide folding for large planes on the GPU, contiguous vector
 * runs on the CPU).
 */

/** The most negative finite f32: MaxPool's starting value, as in onnxruntime. */
const F32_LOWEST = -3.4028234663852886e38;

interface PoolKind {
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
  readonly final: (acc: number, count: number) => number;
  /** WGSL pool_init / pool_step / pool_final over T. */
  readonly wgsl: string;
  /** The pool.c kernel. */
  readonly cpu: 'pool_max' | 'pool_average';
}

const MAX: PoolKind = {
  init: F32_LOWEST,
  step: Math.max,
  final: (acc) => acc,
  // max_nan: a NaN tap makes the output NaN, as Math.max does (WGSL's max need not).
  wgsl: `${NAN_FNS}fn pool_init() -> T { return -3.4028234e38; }
fn pool_step(a: T, x: T) -> T { return max_nan(a, x); }
fn pool_final(a: T, count: u32) -> T { return a; }
`,
  cpu: 'pool_max',
};

const AVERAGE: PoolKind = {
  init: 0,
  step: (acc, x) => acc + x,
  final: (acc, count) => acc / count,
  wgsl: `fn pool_init() -> T { return 0.0; }
fn pool_step(a: T, x: T) -> T { return a + x; }
fn pool_final(a: T, count: u32) -> T { return a / f32(count); }
`,
  cpu: 'pool_average',
};

interface PoolSpec {
  readonly spatial: readonly number[];
  readonly window: WindowAttrs;
  readonly geometry: WindowGeometry;
  /** Per axis, the coordinate range whose taps AveragePool divides by. */
  readonly countLo: readonly number[];
  readonly countHi: readonly number[];
}

function poolSpec(x: ValueInfo, node: Node, countPads: boolean): PoolSpec {
  if (x.dtype !== 'float32') throw new ShapeError(`${node.opType} needs a float input, got ${x.dtype}`);
  if (x.dims.length < 3 || x.dims.length > 5) throw new ShapeError(`${node.opType} takes [N, C, 1 to 3 spatial dims], got [${x.dims.join(', ')}]`);
  const spatial = x.dims.slice(2);
  const window = windowAttrs(node.attrs, spatial.length);
  const geometry = windowGeometry(spatial, window);
  return {
    spatial,
    window,
    geometry,
    countLo: spatial.map((_, i) => (countPads ? -geometry.padsBegin[i]! : 0)),
    countHi: spatial.map((s, i) => (countPads ? s + geometry.padsEnd[i]! : s)),
  };
}

function poolReference(x: Tensor, spec: PoolSpec, kind: PoolKind): Tensor {
  const { spatial, window, geometry } = spec;
  const planes = x.dims[0]! * x.dims[1]!;
  const outDims = [x.dims[0]!, x.dims[1]!, ...geometry.out];
  const outPer = sizeOf(geometry.out);
  const inPer = sizeOf(spatial);
  const taps = sizeOf(window.kernel);
  const y = new Float32Array(planes * outPer);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outPer; o++) {
      // Output coordinates, innermost axis last.
      const oc: number[] = [];
      for (let a = spatial.length - 1, r = o; a >= 0; a--) {
        oc[a] = r % geometry.out[a]!;
        r = Math.floor(r / geometry.out[a]!);
      }
      let acc = kind.init;
      let count = 0;
      for (let t = 0; t < taps; t++) {
        let inside = true;
        let counted = true;
        let offset = 0;
        for (let a = spatial.length - 1, r = t; a >= 0; a--) {
          const k = r % window.kernel[a]!;
          r = Math.floor(r / window.kernel[a]!);
          const i = oc[a]! * window.strides[a]! - geometry.padsBegin[a]! + k * window.dilations[a]!;
          inside &&= i >= 0 && i < spatial[a]!;
          counted &&= i >= spec.countLo[a]! && i < spec.countHi[a]!;
          offset += i * sizeOf(spatial.slice(a + 1));
        }
        if (inside) acc = kind.step(acc, x.data[p * inPer + offset]!);
        if (counted) count++;
      }
      y[p * outPer + o] = kind.final(acc, count);
    }
  }
  return { dtype: 'float32', dims: outDims, data: y };
}

/** The parameter block of pool.wgsl and pool.c (see pool.wgsl), 1-D and 2-D padded with unit axes. */
function poolParams(x: ValueInfo, s: PoolSpec): { total: number; params: Params } {
  const lead = 3 - s.spatial.length;
  const total = sizeOf([x.dims[0]!, x.dims[1]!, ...s.geometry.out]);
  // Header: the output count, padded so the per-axis blocks start at word 4.
  const params = new Params().u32s(total, 0, 0, 0);
  for (let a = 0; a < 3; a++) {
    const i = a - lead;
    if (i < 0) params.u32s(1, 1, 1, 1, 1).i32s(0, 0, 1);
    else {
      params
        .u32s(s.spatial[i]!, s.geometry.out[i]!, s.window.kernel[i]!, s.window.strides[i]!, s.window.dilations[i]!)
        .i32s(s.geometry.padsBegin[i]!, s.countLo[i]!, s.countHi[i]!);
    }
  }
  return { total, params };
}

function poolOp(kind: PoolKind): OpDef {
  const spec = (x: ValueInfo, node: Node): PoolSpec => {
    if (kind === MAX && node.outputs[1]) {
      throw new UnsupportedOpError([{ opType: node.opType, domain: node.domain, node: node.name, reason: 'the Indices output of MaxPool is not supported' }]);
    }
    return poolSpec(x, node, kind === AVERAGE && attrInt(node.attrs, 'count_include_pad', 0) !== 0);
  };
  return {
    shape([x], { node }) {
      const { geometry } = spec(x!, node);
      return [{ dtype: 'float32', dims: [x!.dims[0]!, x!.dims[1]!, ...geometry.out] }];
    },
    reference([x], { node }) {
      return [poolReference(x!, spec(x!, node), kind)];
    },
    webgpu({ inputs: [x], node }) {
      const { total, params } = poolParams(x!, spec(x!, node));
      return {
        kind: 'dispatch',
        programs: [{
          code: `alias T = f32;\n${paramsDecl(2, params.length)}\n${kind.wgsl}\n${poolWgsl}`,
          workgroups: dispatch1d(total, 256),
          bindings: [{ input: 0 }, { output: 0 }],
          uniforms: params.pack(),
        }],
      };
    },
    cpu({ inputs: [x], node }) {
      const { params } = poolParams(x!, spec(x!, node));
      return { kind: 'call', calls: [{ fn: kind.cpu, bindings: [{ input: 0 }, { output: 0 }], uniforms: params.pack() }] };
    },
  };
}

/** GlobalMaxPool / GlobalAveragePool: the spatial axes reduced to 1. */
function globalPoolOp(opType: string, reducer: 'ReduceMax' | 'ReduceMean'): OpDef {
  const check = (x: ValueInfo): number[] => {
    if (x.dtype !== 'float32') throw new ShapeError(`${opType} needs a float input, got ${x.dtype}`);
    if (x.dims.length < 2) throw new ShapeError(`${opType} takes [N, C, spatial…], got [${x.dims.join(', ')}]`);
    return x.dims.map((d, i) => (i < 2 ? d : 1));
  };
  const spatialAxes = (x: ValueInfo): number[] => x.dims.map((_, i) => i).slice(2);
  return {
    shape: ([x]) => [{ dtype: 'float32', dims: check(x!) }],
    reference([x]) {
      const dims = check(x!);
      const per = sizeOf(x!.dims.slice(2));
      const y = new Float32Array(sizeOf(dims));
      for (let p = 0; p < y.length; p++) y[p] = REDUCERS[reducer]!.ref(Array.from(x!.data.subarray(p * per, (p + 1) * per)), false);
      return [{ dtype: 'float32', dims, data: y }];
    },
    webgpu: ({ inputs: [x] }) => ({ kind: 'dispatch', programs: [reduceProgram(x!, spatialAxes(x!), REDUCERS[reducer]!)] }),
    cpu: ({ inputs: [x] }) => ({ kind: 'call', calls: [reduceCall(x!, spatialAxes(x!), REDUCERS[reducer]!)] }),
  };
}

export const poolOps: Record<string, OpDef> = {
  MaxPool: poolOp(MAX),
  AveragePool: poolOp(AVERAGE),
  GlobalMaxPool: globalPoolOp('GlobalMaxPool', 'ReduceMax'),
  GlobalAveragePool: globalPoolOp('GlobalAveragePool', 'ReduceMean'),
};
