/**
 * TensorFlow.js cannot read ONNX, and these models ship no tfjs graph (converting needs Python
 * TensorFlow). For graphs made only of dense-layer ops (the openWakeWord heads), the tfjs program is
 * the obvious one — tf.matMul, tf.add, tf.relu, … with the ONNX weights as tf constants — so the
 * bench builds it op for op and measures tfjs on it. Any other op makes the model n/a for tfjs: a
 * hand port of convolutions or of layout changes would measure the port rather than tfjs.
 */
import type * as Tf from '@tensorflow/tfjs-core';
import { attrFloat, attrInt, attrInts, attrTensor, type Model } from '../core/ir/graph.js';
import type { Tensor } from '../core/tensor.js';

/** The model has an op without a plain tfjs equivalent: a result ('n/a'), not a failure. */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable';
}

export interface TfjsProgram {
  (feeds: Readonly<Record<string, Tf.Tensor>>): Record<string, Tf.Tensor>;
  dispose(): void;
}

type Op = (tf: typeof Tf, x: readonly Tf.Tensor[], attrs: Model['graph']['nodes'][number]['attrs'], opset: number) => Tf.Tensor;

const OPS: Readonly<Record<string, Op>> = {
  Flatten: (tf, [x], attrs) => {
    const axis = attrInt(attrs, 'axis', 1);
    const a = axis < 0 ? axis + x!.rank : axis;
    const outer = x!.shape.slice(0, a).reduce((p, d) => p * d, 1);
    return tf.reshape(x!, [outer, x!.size / outer]);
  },
  Gemm: (tf, [a, b, c], attrs) => {
    const alpha = attrFloat(attrs, 'alpha', 1);
    const beta = attrFloat(attrs, 'beta', 1);
    let y = tf.matMul(a!, b!, attrInt(attrs, 'transA', 0) === 1, attrInt(attrs, 'transB', 0) === 1);
    if (alpha !== 1) y = tf.mul(y, alpha);
    return c ? tf.add(y, beta === 1 ? c : tf.mul(c, beta)) : y;
  },
  MatMul: (tf, [a, b]) => tf.matMul(a!, b!),
  Add: (tf, [a, b]) => tf.add(a!, b!),
  Sub: (tf, [a, b]) => tf.sub(a!, b!),
  Mul: (tf, [a, b]) => tf.mul(a!, b!),
  Div: (tf, [a, b]) => tf.div(a!, b!),
  Pow: (tf, [a, b]) => tf.pow(a!, b!),
  Sqrt: (tf, [x]) => tf.sqrt(x!),
  Relu: (tf, [x]) => tf.relu(x!),
  Sigmoid: (tf, [x]) => tf.sigmoid(x!),
  Tanh: (tf, [x]) => tf.tanh(x!),
  Softmax: (tf, [x], attrs, opset) => {
    // Opset < 13 flattens from `axis` (default 1); that is the last axis only for 2-d inputs.
    const axis = attrInt(attrs, 'axis', opset >= 13 ? -1 : 1);
    if (axis !== -1 && axis !== x!.rank - 1) throw new NotApplicable(`Softmax over axis ${axis} of a rank-${x!.rank} tensor: tf.softmax takes the last axis only`);
    return tf.softmax(x!);
  },
  ReduceMean: (tf, [x, axesInput], attrs) => {
    const axes = axesInput ? Array.from(axesInput.dataSync()) : attrInts(attrs, 'axes');
    return tf.mean(x!, axes ? [...axes] : undefined, attrInt(attrs, 'keepdims', 1) === 1);
  },
};

const toTf = (tf: typeof Tf, t: Tensor): Tf.Tensor => tf.tensor(t.data, [...t.dims], t.dtype === 'float32' ? 'float32' : t.dtype === 'bool' ? 'bool' : 'int32');

/** Checks every op at build time, so a model is n/a before anything is timed. */
export function tfjsProgram(tf: typeof Tf, model: Model): TfjsProgram {
  const { graph, opset } = model;
  const missing = [...new Set(graph.nodes.map((n) => n.opType).filter((op) => op !== 'Constant' && !(op in OPS)))];
  if (missing.length) throw new NotApplicable(`no plain tfjs equivalent for ${missing.join(', ')}`);
  const constants = new Map<string, Tf.Tensor>();
  for (const [name, t] of graph.initializers) constants.set(name, toTf(tf, t));
  for (const n of graph.nodes) {
    if (n.opType !== 'Constant') continue;
    const value = attrTensor(n.attrs, 'value');
    if (!value) throw new NotApplicable(`Constant "${n.name}" without a tensor value`);
    constants.set(n.outputs[0]!, toTf(tf, value));
  }
  const program = (feeds: Readonly<Record<string, Tf.Tensor>>): Record<string, Tf.Tensor> => {
    const values = new Map<string, Tf.Tensor>([...constants, ...Object.entries(feeds)]);
    for (const n of graph.nodes) {
      if (n.opType === 'Constant') continue;
      const inputs = n.inputs.map((name) => (name === '' ? undefined : values.get(name))) as Tf.Tensor[];
      values.set(n.outputs[0]!, OPS[n.opType]!(tf, inputs, n.attrs, opset));
    }
    return Object.fromEntries(graph.outputs.map((o) => [o.name, values.get(o.name)!]));
  };
  return Object.assign(program, { dispose: () => tf.dispose([...constants.values()]) });
}
