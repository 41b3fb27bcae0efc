/**
 * Sequential models defined once and read two ways: as TensorFlow.js ops for training (NHWC, the
 * layout tfjs convolves in) and as an ONNX graph for Tessera (NCHW, the layout ONNX Conv takes).
 *
 * The layouts meet at Flatten: tfjs flattens a map in (h, w, c) order, ONNX in (c, h, w). Rather
 * than put a Transpose in the exported graph, the Flatten records where each tfjs feature lands
 * in the ONNX vector and the next Dense permutes its weight rows to match.
 *
 * The same walk runs backwards: a graph this export wrote loads back into the layers' variables
 * (fine-tuning starts from the committed models), undoing each layout change.
 */
import type * as Tf from '@tensorflow/tfjs';
import type { Graph, Node } from '../../core/ir/graph.js';
import type { NodeSpec } from '../../core/onnx/write-onnx.js';
import type { Tensor } from '../../core/tensor.js';
import type { Rng } from './rng.js';
import { tf } from './tfjs.js';

/** A value of the ONNX graph being written. */
export interface OnnxValue {
  readonly name: string;
  /** For a vector flattened from a map: the ONNX index of each tfjs feature. Absent: the same order. */
  readonly order?: Int32Array;
}

/** Collects the exported graph's nodes and weights. */
export class OnnxGraphWriter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Record<string, Tensor> = {};
  private count = 0;

  /** A new value name for a layer's output. */
  value(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  weight(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers[name] = { dtype: 'float32', dims, data };
    return name;
  }
}

/**
 * Reads a graph the export wrote back in the export's own order: node i is layer i's, reading the
 * previous layer's output. Anything else is refused (the layers can only hold what they write).
 */
export class OnnxGraphReader {
  private index = 0;

  constructor(private readonly graph: Graph) {}

  /** The next node, which must be an `op` reading `input`. */
  node(op: string, input: OnnxValue): Node {
    const node = this.graph.nodes[this.index++];
    if (node?.opType !== op || node.inputs[0] !== input.name) {
      const found = node ? `${node.opType} reading "${node.inputs[0]}"` : 'the end of the graph';
      throw new TypeError(`node ${this.index - 1}: the layers expect ${op} reading "${input.name}", the graph has ${found}`);
    }
    return node;
  }

  /** The node's float initializer input `i`, which must have the layer's dims. */
  weight(node: Node, i: number, dims: readonly number[]): Float32Array {
    const t = this.graph.initializers.get(node.inputs[i] ?? '');
    if (t?.dtype !== 'float32' || t.dims.join() !== dims.join()) {
      throw new TypeError(`${node.name}: input ${i} must be a float32 [${dims.join(', ')}] initializer, got ${t ? `${t.dtype} [${t.dims.join(', ')}]` : 'none'}`);
    }
    return Float32Array.from(t.data as Float32Array);
  }

  /** Refuses nodes left over after the last layer, or a last layer that is not the graph's output. */
  end(last: OnnxValue, output: string): void {
    if (this.index !== this.graph.nodes.length || last.name !== output) {
      throw new TypeError(`the layers account for ${this.index} of ${this.graph.nodes.length} nodes, ending in "${last.name}" rather than the output "${output}"`);
    }
  }
}

export interface Layer {
  readonly variables: readonly Tf.Variable[];
  /** Per-sample dims of the output as tfjs holds it: [h, w, c] for maps, [n] for vectors. */
  readonly outShape: readonly number[];
  apply(x: Tf.Tensor): Tf.Tensor;
  /** Adds the layer's ONNX nodes after `input`; `last` names the output the graph exposes. */
  exportOnnx(g: OnnxGraphWriter, input: OnnxValue, last: string | undefined): OnnxValue;
  /** The inverse: sets the variables from the node(s) exportOnnx wrote after `input`. */
  importOnnx(r: OnnxGraphReader, input: OnnxValue): OnnxValue;
}

export type LayerSpec = { readonly conv3x3: number } | { readonly dense: number } | 'relu' | 'maxpool2' | 'flatten';

/** He-uniform weights (the layers feed ReLUs), from the run's seeded generator. */
function heUniform(rng: Rng, dims: number[], fanIn: number): Tf.Variable {
  const limit = Math.sqrt(6 / fanIn);
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (rng() * 2 - 1) * limit);
  return tf.variable(tf.tensor(data, dims));
}

const read = (v: Tf.Variable): Float32Array => v.dataSync() as Float32Array;
const write = (v: Tf.Variable, data: Float32Array): void => v.assign(tf.tensor(data, v.shape));

/** Calls f(tfjs index, ONNX index) for every weight of a 3x3 kernel: [kh, kw, in, out] against OIHW. */
function kernelIndices(c: number, out: number, f: (tfjs: number, onnx: number) => void): void {
  for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) for (let i = 0; i < c; i++) for (let o = 0; o < out; o++) {
    f(((ky * 3 + kx) * c + i) * out + o, ((o * c + i) * 3 + ky) * 3 + kx);
  }
}

function mapShape(shape: readonly number[], what: string): [number, number, number] {
  if (shape.length !== 3) throw new TypeError(`${what} needs a [h, w, c] map, got [${shape.join(', ')}]`);
  return shape as [number, number, number];
}

/**
 * The gradients of a 3x3 'same' convolution, both as forward convolutions, which the wasm backend
 * runs on XNNPACK: it has no Conv2DBackpropFilter kernel at all, and its Conv2DBackpropInput is
 * several times slower than a Conv2D of the same size.
 * - filter: the input's channels play the batch and the output gradient the filter;
 * - input: the output gradient convolved with the filter turned 180° and its in/out swapped.
 */
function conv3x3Grads(x: Tf.Tensor4D, kernel: Tf.Tensor4D, dy: Tf.Tensor4D): [Tf.Tensor4D, Tf.Tensor4D] {
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
  const dx = tf.conv2d(dy, flipped, 1, 'same');
  const dw = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  return [dx, tf.transpose(dw, [1, 2, 0, 3])];
}

/**
 * 2x2 max pooling, stride 2, whose gradient goes to every input equal to its window's max: the
 * wasm backend's MaxPoolGrad is a slow loop. The two differ only on ties, and the ReLU before the
 * pool zeroes the gradient of the common tie (a window of zeros) anyway.
 */
function maxPool2(): (x: Tf.Tensor4D) => Tf.Tensor4D {
  return tf.customGrad(((x: Tf.Tensor4D, save: Tf.GradSaveFunc) => {
    const y = tf.maxPool(x, 2, 2, 'valid');
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: Tf.Tensor4D, [sx, sy]: Tf.Tensor4D[]) => {
        const up = (t: Tf.Tensor4D): Tf.Tensor4D => tf.image.resizeNearestNeighbor(t, [sx!.shape[1], sx!.shape[2]]);
        return tf.mul(tf.cast(tf.equal(sx!, up(sy!)), 'float32'), up(dy));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: Tf.Tensor4D) => Tf.Tensor4D;
}

function conv3x3(rng: Rng, inShape: readonly number[], out: number): Layer {
  const [h, w, c] = mapShape(inShape, 'conv3x3');
  const kernel = heUniform(rng, [3, 3, c, out], 9 * c);
  const bias = tf.variable(tf.zeros([out]));
  const conv = tf.customGrad(((x: Tf.Tensor4D, k: Tf.Tensor4D, save: Tf.GradSaveFunc) => {
    save([x, k]);
    return {
      value: tf.conv2d(x, k, 1, 'same'),
      gradFunc: (dy: Tf.Tensor4D, [sx, sk]: Tf.Tensor4D[]) => conv3x3Grads(sx!, sk!, dy),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return {
    variables: [kernel, bias],
    outShape: [h, w, out],
    apply: (x) => tf.add(conv(x, kernel), bias),
    exportOnnx(g, input, last) {
      const k = read(kernel);
      const oihw = new Float32Array(k.length);
      kernelIndices(c, out, (t, o) => (oihw[o] = k[t]!));
      const name = last ?? g.value('conv');
      const wName = g.weight(`${name}.weight`, [out, c, 3, 3], oihw);
      const bName = g.weight(`${name}.bias`, [out], read(bias));
      g.nodes.push({ op: 'Conv', inputs: [input.name, wName, bName], outputs: [name], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
      return { name };
    },
    importOnnx(r, input) {
      const node = r.node('Conv', input);
      const oihw = r.weight(node, 1, [out, c, 3, 3]);
      const k = new Float32Array(oihw.length);
      kernelIndices(c, out, (t, o) => (k[t] = oihw[o]!));
      write(kernel, k);
      write(bias, r.weight(node, 2, [out]));
      return { name: node.outputs[0]! };
    },
  };
}

function dense(rng: Rng, inShape: readonly number[], out: number): Layer {
  if (inShape.length !== 1) throw new TypeError(`dense needs a vector input (flatten first), got [${inShape.join(', ')}]`);
  const n = inShape[0]!;
  const kernel = heUniform(rng, [n, out], n);
  const bias = tf.variable(tf.zeros([out]));
  return {
    variables: [kernel, bias],
    outShape: [out],
    apply: (x) => tf.add(tf.matMul(x as Tf.Tensor2D, kernel as Tf.Tensor2D), bias),
    exportOnnx(g, input, last) {
      const k = read(kernel);
      const rows = new Float32Array(k.length);
      for (let r = 0; r < n; r++) rows.set(k.subarray(r * out, (r + 1) * out), (input.order?.[r] ?? r) * out);
      const name = last ?? g.value('dense');
      const wName = g.weight(`${name}.weight`, [n, out], rows);
      const bName = g.weight(`${name}.bias`, [out], read(bias));
      g.nodes.push({ op: 'Gemm', inputs: [input.name, wName, bName], outputs: [name] });
      return { name };
    },
    importOnnx(r, input) {
      const node = r.node('Gemm', input);
      const rows = r.weight(node, 1, [n, out]);
      const k = new Float32Array(rows.length);
      for (let p = 0; p < n; p++) {
        const q = input.order?.[p] ?? p;
        k.set(rows.subarray(q * out, (q + 1) * out), p * out);
      }
      write(kernel, k);
      write(bias, r.weight(node, 2, [out]));
      return { name: node.outputs[0]! };
    },
  };
}

/** An op without weights that keeps the feature order. */
function unary(outShape: readonly number[], apply: (x: Tf.Tensor) => Tf.Tensor, node: Omit<NodeSpec, 'inputs' | 'outputs'>): Layer {
  return {
    variables: [],
    outShape,
    apply,
    exportOnnx(g, input, last) {
      const name = last ?? g.value(node.op.toLowerCase());
      g.nodes.push({ ...node, inputs: [input.name], outputs: [name] });
      return { name, order: input.order };
    },
    importOnnx: (r, input) => ({ name: r.node(node.op, input).outputs[0]!, order: input.order }),
  };
}

function flatten(inShape: readonly number[]): Layer {
  const [h, w, c] = mapShape(inShape, 'flatten');
  const order = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) order[(y * w + x) * c + ch] = (ch * h + y) * w + x;
  const inner = unary([h * w * c], (t) => tf.reshape(t, [-1, h * w * c]), { op: 'Flatten', attrs: { axis: 1 } });
  return {
    ...inner,
    exportOnnx: (g, input, last) => ({ ...inner.exportOnnx(g, input, last), order }),
    importOnnx: (r, input) => ({ ...inner.importOnnx(r, input), order }),
  };
}

function layer(rng: Rng, inShape: readonly number[], spec: LayerSpec): Layer {
  if (spec === 'relu') return unary(inShape, (x) => tf.relu(x), { op: 'Relu' });
  if (spec === 'flatten') return flatten(inShape);
  if (spec === 'maxpool2') {
    const [h, w, c] = mapShape(inShape, 'maxpool2');
    if (h % 2 || w % 2) throw new TypeError(`maxpool2 needs even map sizes, got ${h}x${w}`);
    const pool = maxPool2();
    return unary([h / 2, w / 2, c], (x) => pool(x as Tf.Tensor4D), { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
  }
  return 'conv3x3' in spec ? conv3x3(rng, inShape, spec.conv3x3) : dense(rng, inShape, spec.dense);
}

export interface Sequential {
  readonly layers: readonly Layer[];
  readonly variables: readonly Tf.Variable[];
  /** NHWC images [n, h, w, c] → logits [n, classes]. */
  apply(x: Tf.Tensor4D): Tf.Tensor2D;
  /** The ONNX graph from `input` (NCHW) to the output named `output`. */
  exportOnnx(g: OnnxGraphWriter, input: string, output: string): void;
  /** Sets every variable from a graph exportOnnx wrote (same layers), refusing any other graph. */
  importOnnx(graph: Graph, input: string, output: string): void;
}

/** Layers in order from an input of per-sample dims `inShape` ([h, w, c]); weights drawn from `rng`. */
export function sequential(rng: Rng, inShape: readonly number[], specs: readonly LayerSpec[]): Sequential {
  const layers: Layer[] = [];
  let shape = inShape;
  for (const spec of specs) {
    const l = layer(rng, shape, spec);
    layers.push(l);
    shape = l.outShape;
  }
  return {
    layers,
    variables: layers.flatMap((l) => l.variables),
    apply: (x) => layers.reduce<Tf.Tensor>((h, l) => l.apply(h), x) as Tf.Tensor2D,
    exportOnnx(g, input, output) {
      layers.reduce<OnnxValue>((v, l, i) => l.exportOnnx(g, v, i === layers.length - 1 ? output : undefined), { name: input });
    },
    importOnnx(graph, input, output) {
      const r = new OnnxGraphReader(graph);
      r.end(layers.reduce<OnnxValue>((v, l) => l.importOnnx(r, v), { name: input }), output);
    },
  };
}
