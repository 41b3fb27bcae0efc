import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { attrInt, type Attrs } from '../../core/ir/graph.js';
import { sizeOf, type DType, type Tensor } from '../../core/tensor.js';

/**
 * BlockSparseMatMul's weight format (docs/compressed-formats.md): float32 weights [N, K] cut into
 * blocks of 4 output channels × 16 along K, the blocks that hold any nonzero stored in BSR form.
 * 4 × 16 because the CPU kernel's unit of work is one f32x4 accumulator per channel of a row
 * group fed by 4 A vectors (16 floats, one cache line): a block is exactly one such step, so a
 * skipped block skips whole loads and multiply-adds, never lanes.
 */
export const BLOCK_ROWS = 4;
export const BLOCK_COLS = 16;

export interface BlockSparse {
  /** [nnzBlocks, 4, 16]: each stored block row-major, rows past N and columns past K zero. */
  readonly values: Float32Array;
  /** [nnzBlocks]: the K-block index (columns 16 c … 16 c + 15) of each stored block. */
  readonly blockCols: Int32Array;
  /** [ceil(N/4) + 1]: the blocks of row group g are rowPtr[g] … rowPtr[g + 1] - 1. */
  readonly rowPtr: Int32Array;
}

/** Packs a row-major [N, K] matrix, keeping every block with a nonzero (K-blocks ascending per row group). */
export function packBlockSparse(w: ArrayLike<number>, n: number, k: number): BlockSparse {
  const groups = Math.ceil(n / BLOCK_ROWS);
  const kb = Math.ceil(k / BLOCK_COLS);
  const values: number[] = [];
  const blockCols: number[] = [];
  const rowPtr = new Int32Array(groups + 1);
  const block = new Float32Array(BLOCK_ROWS * BLOCK_COLS);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < kb; c++) {
      block.fill(0);
      let nonzero = false;
      for (let i = 0; i < BLOCK_ROWS && g * BLOCK_ROWS + i < n; i++) {
        for (let j = 0; j < BLOCK_COLS && c * BLOCK_COLS + j < k; j++) {
          const v = w[(g * BLOCK_ROWS + i) * k + c * BLOCK_COLS + j]!;
          block[i * BLOCK_COLS + j] = v;
          if (v !== 0) nonzero = true;
        }
      }
      if (!nonzero) continue;
      values.push(...block);
      blockCols.push(c);
    }
    rowPtr[g + 1] = blockCols.length;
  }
  return { values: Float32Array.from(values), blockCols: Int32Array.from(blockCols), rowPtr };
}

export interface BlockSparseGeometry {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Row groups, ceil(N/4), and K-blocks, ceil(K/16). */
  readonly groups: number;
  readonly kBlocks: number;
  readonly nnzBlocks: number;
  readonly out: readonly number[];
}

interface Operand {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

const describe = (t: Operand): string => `${t.dtype} [${t.dims.join(', ')}]`;

/**
 * Operand checks shared by shape inference, the reference and both planners. N is an attribute:
 * rowPtr only gives ceil(N/4), and the bias is optional.
 */
export function blockSparseGeometry([a, values, blockCols, rowPtr, bias]: readonly (Operand | undefined)[], attrs: Attrs): BlockSparseGeometry {
  const k = attrInt(attrs, 'k', -1);
  const n = attrInt(attrs, 'n', -1);
  for (const [name, v] of [['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ModelFormatError(`BlockSparseMatMul needs the attribute ${name} (≥ 1), got ${attrs[name] ?? 'none'}`);
  }
  if (!a || !values || !blockCols || !rowPtr) throw new ModelFormatError('BlockSparseMatMul needs its inputs A, values, blockCols and rowPtr');
  if (a.dtype !== 'float32' || a.dims.length < 1 || a.dims[a.dims.length - 1] !== k) {
    throw new ShapeError(`BlockSparseMatMul A must be float32 [..., K] with K = k = ${k}, got ${describe(a)}`);
  }
  const groups = Math.ceil(n / BLOCK_ROWS);
  if (rowPtr.dtype !== 'int32' || rowPtr.dims.length !== 1 || rowPtr.dims[0] !== groups + 1) {
    throw new ShapeError(`BlockSparseMatMul rowPtr must be int32 [ceil(${n}/4) + 1 = ${groups + 1}], got ${describe(rowPtr)}`);
  }
  if (values.dtype !== 'float32' || values.dims.length !== 3 || values.dims[1] !== BLOCK_ROWS || values.dims[2] !== BLOCK_COLS) {
    throw new ShapeError(`BlockSparseMatMul values must be float32 [nnzBlocks, 4, 16], got ${describe(values)}`);
  }
  const nnzBlocks = values.dims[0]!;
  if (blockCols.dtype !== 'int32' || blockCols.dims.length !== 1 || blockCols.dims[0] !== nnzBlocks) {
    throw new ShapeError(`BlockSparseMatMul blockCols must be int32 [${nnzBlocks}], got ${describe(blockCols)}`);
  }
  if (bias && (bias.dtype !== 'float32' || bias.dims.length !== 1 || bias.dims[0] !== n)) {
    throw new ShapeError(`BlockSparseMatMul bias must be float32 [${n}], got ${describe(bias)}`);
  }
  return { m: sizeOf(a.dims.slice(0, -1)), n, k, groups, kBlocks: Math.ceil(k / BLOCK_COLS), nnzBlocks, out: [...a.dims.slice(0, -1), n] };
}

/**
 * The structure every kernel relies on, checked at load: rowPtr runs from 0 to nnzBlocks without
 * going back, every blockCols entry names a K-block, and the padding (rows past N, columns past
 * K) is zero, so the kernels may read whole blocks against zero-padded A. Returns the dense [N, K]
 * matrix the blocks stand for (the reference multiplies it).
 */
export function checkBlockSparse(values: Tensor, blockCols: Tensor, rowPtr: Tensor, g: BlockSparseGeometry): Float32Array {
  const ptr = rowPtr.data;
  if (ptr[0] !== 0 || ptr[g.groups] !== g.nnzBlocks) {
    throw new ModelFormatError(`BlockSparseMatMul rowPtr must run from 0 to nnzBlocks = ${g.nnzBlocks}, got ${ptr[0]} … ${ptr[g.groups]}`);
  }
  const dense = new Float32Array(g.n * g.k);
  for (let grp = 0; grp < g.groups; grp++) {
    if (ptr[grp + 1]! < ptr[grp]!) throw new ModelFormatError(`BlockSparseMatMul rowPtr decreases at row group ${grp}: ${ptr[grp]} → ${ptr[grp + 1]}`);
    for (let b = ptr[grp]!; b < ptr[grp + 1]!; b++) {
      const c = blockCols.data[b]!;
      if (!(c >= 0 && c < g.kBlocks)) throw new ModelFormatError(`BlockSparseMatMul blockCols[${b}] = ${c} is not a K-block of K = ${g.k} (0 … ${g.kBlocks - 1})`);
      for (let i = 0; i < BLOCK_ROWS; i++) {
        for (let j = 0; j < BLOCK_COLS; j++) {
          const v = values.data[(b * BLOCK_ROWS + i) * BLOCK_COLS + j]!;
          const r = grp * BLOCK_ROWS + i;
          const col = c * BLOCK_COLS + j;
          if (r < g.n && col < g.k) dense[r * g.k + col]! += v;
          else if (v !== 0) throw new ModelFormatError(`BlockSparseMatMul block ${b} holds ${v} in its padding (row ${r}, column ${col} of [${g.n}, ${g.k}])`);
        }
      }
    }
  }
  return dense;
}
