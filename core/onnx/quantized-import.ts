import type { Model } from '../ir/graph.js';
import { rewriteDynamicMatMuls } from './dynamic-matmul.js';
import { ImportGraph, type StoredType } from './import-graph.js';
import { rewriteMatMulNBits } from './matmul-nbits.js';
import { dropFakeQuantization, foldConstantDequantize } from './qdq.js';
import { rewriteQuantizedLayers } from './quantized-layers.js';

/**
 * The import of already-quantized ONNX models onto the com.tessera kernels (docs/compressed-formats.md,
 * "Importing quantized ONNX"). It runs in the loader, not the planner: it depends on the file alone,
 * not on the input dims the planner binds per shape bucket; it needs the ONNX element types (int8 or
 * uint8 zero points, fp16 scales) the loader widens away; and what it yields is an ordinary model
 * that the tools can pack into a bundle. What it cannot carry over exactly it approximates, and
 * says so in `Model.importNotes`.
 */

const QUANTIZED_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'MatMulNBits']);

export function importQuantized(model: Model, stored: ReadonlyMap<string, StoredType>): Model {
  if (!model.graph.nodes.some((n) => QUANTIZED_OPS.has(n.opType))) return model;
  const g = new ImportGraph(model.graph, stored);
  rewriteMatMulNBits(g);
  const dynamic = rewriteDynamicMatMuls(g);
  const folded = foldConstantDequantize(g);
  rewriteQuantizedLayers(g, new Map([...dynamic.weights, ...folded]), dynamic.layers);
  g.dropDead();
  dropFakeQuantization(g);
  g.dropDead();
  return { ...model, graph: g.graph(), importNotes: g.notes };
}
