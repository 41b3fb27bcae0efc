/**
 * Small ONNX files for tests, written by core/onnx/write-onnx.ts, so a test can make exactly the
 * model a case needs (an operator Tessera lacks, an If on a run-time condition, a symbolic batch
 * dim) as real bytes that go through the same loader as any model file.
 */
import { encodeModel, type GraphSpec } from '../../core/onnx/write-onnx.js';

export { storedAs, type AttrSpec, type GraphSpec, type NodeSpec, type StoredAs, type ValueSpec } from '../../core/onnx/write-onnx.js';

export function buildModel(graph: GraphSpec, opset = 17, extraDomains: readonly string[] = []): Uint8Array {
  return encodeModel(graph, { opset, domains: extraDomains, producer: 'tessera-tests' });
}

/**
 * y = Relu(x · W + b) over a symbolic batch: x [batch, 4] → y [batch, 3]. Small, runs on every
 * backend with kernels that exist from day one (MatMul, Add, Relu).
 */
export function denseReluModel(): Uint8Array {
  const w = Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) / 4 - 0.4);
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3] }],
    initializers: {
      W: { dtype: 'float32', dims: [4, 3], data: w },
      b: { dtype: 'float32', dims: [3], data: Float32Array.of(0.1, -0.2, 0.05) },
    },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['z'] },
      { op: 'Relu', inputs: ['z'], outputs: ['y'] },
    ],
  });
}
