/**
 * NumPy `.npy` files (format versions 1–3), for the dtypes Tessera holds: float32 (`<f4`), int32
 * (`<i4`), int64 (`<i8`, narrowed to int32 as everywhere in the runtime) and bool (`|b1`). Only
 * C-order little-endian arrays; anything else is rejected with the reason rather than misread.
 */
import { narrowInt64, sizeOf, type DType, type Tensor } from '../core/tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, DType> = { '<f4': 'float32', '<i4': 'int32', '<i8': 'int64', '|b1': 'bool' };
const DESCR_OF: Record<DType, string> = { float32: '<f4', int32: '<i4', int64: '<i8', bool: '|b1' };

export class NpyError extends Error {
  override readonly name = 'NpyError';
}

/** Reads one value of the header dict, which is a Python literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */
function headerField(header: string, key: string): string {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|True|False|\\([^)]*\\))`).exec(header);
  if (!m) throw new NpyError(`.npy header has no '${key}': ${header.trim()}`);
  return m[1]!;
}

export function readNpy(bytes: Uint8Array): Tensor {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError('not a .npy file (no \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new NpyError(`.npy format version ${major} is not supported (1–3 are)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.byteLength) throw new NpyError('.npy file is truncated inside its header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));

  const descr = headerField(header, 'descr').slice(1, -1);
  const dtype = DESCR[descr];
  if (!dtype) throw new NpyError(`.npy dtype '${descr}' is not supported (float32 '<f4', int32 '<i4', int64 '<i8', bool '|b1' are)`);
  if (headerField(header, 'fortran_order') === 'True') throw new NpyError('Fortran-order .npy arrays are not supported; save with np.ascontiguousarray');
  const dims = headerField(header, 'shape')
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`.npy shape is malformed: ${headerField(header, 'shape')}`);

  const n = sizeOf(dims);
  const width = descr.endsWith('8') ? 8 : descr.endsWith('4') ? 4 : 1;
  const offset = start + headerLen;
  if (bytes.byteLength - offset < n * width) {
    throw new NpyError(`.npy file is truncated: shape (${dims.join(', ')}) needs ${n * width} bytes of data, found ${bytes.byteLength - offset}`);
  }
  const body = new DataView(bytes.buffer, bytes.byteOffset + offset, n * width);
  switch (dtype) {
    case 'float32': return { dtype, dims, data: Float32Array.from({ length: n }, (_, i) => body.getFloat32(i * 4, true)) };
    case 'int32': return { dtype, dims, data: Int32Array.from({ length: n }, (_, i) => body.getInt32(i * 4, true)) };
    case 'int64': return { dtype, dims, data: Int32Array.from({ length: n }, (_, i) => narrowInt64(body.getBigInt64(i * 8, true))) };
    case 'bool': return { dtype, dims, data: Uint8Array.from({ length: n }, (_, i) => (body.getUint8(i) ? 1 : 0)) };
  }
}

export function writeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Version 1.0: the data starts at a multiple of 64 bytes; the header ends with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const n = t.data.length;
  const width = t.dtype === 'int64' ? 8 : t.dtype === 'bool' ? 1 : 4;
  const out = new Uint8Array(total + n * width);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < n; i++) {
    const v = t.data[i]!;
    const o = total + i * width;
    switch (t.dtype) {
      case 'float32': view.setFloat32(o, v, true); break;
      case 'int32': view.setInt32(o, v, true); break;
      case 'int64': view.setBigInt64(o, BigInt(v), true); break;
      case 'bool': view.setUint8(o, v ? 1 : 0); break;
    }
  }
  return out;
}
