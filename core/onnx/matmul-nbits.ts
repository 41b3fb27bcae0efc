import { ModelFormatError } from '../errors.js';
import { attrInt, type Node } from '../ir/graph.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { GROUP, GROUP_WORDS, groupsOf, packHalfScales, quantizeInt4Blocks, zeroPointWords } from '../../kernels/int4/pack.js';
import { packInt8Rows } from '../../kernels/quant/pack.js';
import { TESSERA_DOMAIN } from '../ir/domains.js';
import { refuseNode, type ImportGraph } from './import-graph.js';

/**
 * com.microsoft MatMulNBits (4-bit) → Q4MatMul. Per ONNX Runtime's contrib-op spec: Y = A · Bᵀ with
 * B uint8 [N, n_blocks, block_size/2] (two codes per byte, the lower k in the low nibble), scales
 * [N · n_blocks] (float32 or float16), optional zero points as packed uint4 [N, ceil(n_blocks/2)]
 * bytes (default 8) or as floats, optional bias [N]. With block_size 32 and no or packed zero
 * points, Q4MatMul's layout is the same bytes: codes, scales (fp16 ones as fp16 pairs) and zero
 * points carry over exactly. Anything else is dequantized and quantized again into groups of 32.
 */

const MS_DOMAIN = 'com.microsoft';

const int32 = (dims: readonly number[], data: Int32Array): Tensor => ({ dtype: 'int32', dims, data });

interface Parts {
  readonly k: number;
  readonly n: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly b: Tensor;
  readonly scales: Tensor;
  readonly zeroPoints?: Tensor;
  readonly bias?: Tensor;
}

function parts(g: ImportGraph, node: Node): Parts {
  const k = attrInt(node.attrs, 'K', 0);
  const n = attrInt(node.attrs, 'N', 0);
  const bits = attrInt(node.attrs, 'bits', 4);
  const blockSize = attrInt(node.attrs, 'block_size', 0);
  if (bits !== 4) throw refuseNode(node, `bits = ${bits}: only 4-bit weights map onto Q4MatMul`);
  if (node.inputs[4]) throw refuseNode(node, 'g_idx (act-order) is not imported');
  if (k <= 0 || n <= 0 || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new ModelFormatError(`MatMulNBits "${node.name}": K = ${k}, N = ${n}, block_size = ${blockSize} (K and N positive, block_size a power of 2 ≥ 16)`);
  }
  const [b, scales] = [g.constant(node.inputs[1]), g.constant(node.inputs[2])];
  const zeroPoints = node.inputs[3] ? g.constant(node.inputs[3]) : undefined;
  const bias = node.inputs[5] ? g.constant(node.inputs[5]) : undefined;
  if (!b || !scales || (node.inputs[3] && !zeroPoints) || (node.inputs[5] && !bias)) throw refuseNode(node, 'B, scales, zero_points and bias must be initializers');
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  if (b.dims.join() !== [n, blocks, blob].join()) {
    throw new ModelFormatError(`MatMulNBits "${node.name}": B has dims [${b.dims.join(', ')}], K = ${k}, N = ${n}, block_size = ${blockSize} need [${n}, ${blocks}, ${blob}]`);
  }
  const expect = (t: Tensor | undefined, what: string, size: number): void => {
    if (t && sizeOf(t.dims) !== size) throw new ModelFormatError(`MatMulNBits "${node.name}": ${what} holds ${sizeOf(t.dims)} values, ${size} expected`);
  };
  expect(scales, 'scales', n * blocks);
  expect(zeroPoints, 'zero_points', zeroPoints?.dtype === 'float32' ? n * blocks : n * Math.ceil(blocks / 2));
  expect(bias, 'bias', n);
  return { k, n, blockSize, blocks, b, scales, zeroPoints, bias };
}

/** The float [N, K] weights, for the re-quantizing path. */
function dequantize(p: Parts): Tensor {
  const { k, n, blockSize, blocks, b, scales, zeroPoints } = p;
  const data = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      const blk = Math.floor(i / blockSize);
      const j = (r * blocks + blk) * (blockSize / 2) + ((i % blockSize) >> 1);
      const code = (b.data[j]! >> (4 * (i & 1))) & 15;
      const zp = !zeroPoints ? 8 : zeroPoints.dtype === 'float32'
        ? zeroPoints.data[r * blocks + blk]!
        : (zeroPoints.data[r * Math.ceil(blocks / 2) + (blk >> 1)]! >> (4 * (blk & 1))) & 15;
      data[r * k + i] = (code - zp) * scales.data[r * blocks + blk]!;
    }
  }
  return { dtype: 'float32', dims: [n, k], data };
}

/** Rewrites every MatMulNBits; refuses, by node, the ones it cannot read. */
export function rewriteMatMulNBits(g: ImportGraph): void {
  for (const node of [...g.nodes]) {
    if (node.opType !== 'MatMulNBits' || node.domain !== MS_DOMAIN) continue;
    const p = parts(g, node);
    const halfScales = g.stored.get(node.inputs[2]!) === 'float16';
    const groups = groupsOf(p.k);
    let w: Tensor;
    let scales: Tensor;
    let zeroPoints: Tensor | undefined;
    if (p.blockSize === GROUP && p.zeroPoints?.dtype !== 'float32') {
      // Q4MatMul's words hold MatMulNBits' bytes in order, as packInt8Rows lays bytes into words.
      w = int32([p.n, groups * GROUP_WORDS], packInt8Rows(p.b.data, p.n, groups * GROUP_WORDS * 4));
      // fp16 values widened by the loader narrow back exactly.
      scales = halfScales
        ? int32([p.n, Math.ceil(groups / 2)], packHalfScales(p.scales.data, p.n, groups))
        : { dtype: 'float32', dims: [p.n, groups], data: Float32Array.from(p.scales.data) };
      // ceil(groups/2) zero-point bytes per row → ceil(groups/8) words, the nibble order kept.
      zeroPoints = p.zeroPoints && int32([p.n, zeroPointWords(groups)], packInt8Rows(p.zeroPoints.data, p.n, Math.ceil(groups / 2)));
    } else {
      const why = p.blockSize !== GROUP ? `block_size ${p.blockSize}` : 'float zero points';
      const q = quantizeInt4Blocks(dequantize(p), { zeroPoint: p.zeroPoints !== undefined, scaleDtype: halfScales ? 'float16' : 'float32' });
      ({ packed: w, scales, zeroPoints } = q);
      g.notes.push(`${node.name}: MatMulNBits with ${why} quantized again into Q4MatMul's groups of ${GROUP}`);
    }
    const name = (suffix: string): string => `${node.name}.int4.${suffix}`;
    const entries: [string, Tensor | undefined][] = [['w', w], ['scales', scales], ['zero_points', zeroPoints], ['bias', p.bias]];
    const inputs = [node.inputs[0]!, ...entries.map(([suffix, t]) => {
      if (!t) return '';
      g.initializers.set(name(suffix), t);
      return name(suffix);
    })];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    g.replace([], node, { name: node.name, opType: 'Q4MatMul', domain: TESSERA_DOMAIN, inputs, outputs: [node.outputs[0]!], attrs: { k: p.k } });
  }
}
