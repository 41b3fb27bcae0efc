/**
 * The IDX format of the MNIST family: two zero bytes, an element-type byte, a rank byte, the dims
 * as big-endian u32, then the elements row-major. Only unsigned bytes (type 0x08) are read: every
 * MNIST-style file holds those, and a reader that silently reinterpreted other types would be wrong.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';

const UBYTE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b];

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Parses IDX bytes; `source` names the file in errors. Trailing bytes count as corruption too. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.byteLength < 4) throw new DatasetFormatError(`${source}: ${bytes.byteLength} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DatasetFormatError(`${source}: bad IDX magic (first two bytes must be zero)`);
  if (bytes[2] !== UBYTE) throw new DatasetFormatError(`${source}: IDX element type 0x${bytes[2]!.toString(16)} is not unsigned byte (0x08)`);
  const rank = bytes[3]!;
  const header = 4 + 4 * rank;
  if (rank === 0 || bytes.byteLength < header) throw new DatasetFormatError(`${source}: IDX header declares rank ${rank} but the file has ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const body = bytes.byteLength - header;
  if (body !== size) {
    const what = body < size ? 'truncated' : 'has trailing bytes';
    throw new DatasetFormatError(`${source}: ${what}: dims [${dims.join(', ')}] need ${size} bytes of data, the file holds ${body}`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetNotFoundError(`${path} does not exist`, { cause });
    throw cause;
  }
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = gunzipSync(bytes);
    } catch (cause) {
      throw new DatasetFormatError(`${path}: corrupt or truncated gzip stream (${(cause as Error).message})`, { cause });
    }
  }
  return parseIdx(bytes, path);
}
