/**
 * Tensors as the runtime holds them on the CPU side.
 *
 * int64 is narrowed to int32 with saturation: WGSL has no 64-bit integers, every index and shape
 * in the supported models fits in 32 bits, and one integer layout on every backend is what keeps
 * answers identical. The dtype tag stays `int64` so inputs and outputs round-trip to the caller.
 * bool is one byte per element on the CPU and one u32 per element on the GPU.
 */
export type DType = 'float32' | 'int32' | 'int64' | 'bool';

export type TensorData = Float32Array | Int32Array | Uint8Array;

export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i]!;
  }
  return strides;
}

/** The typed array that holds each dtype's elements (int64 is narrowed to int32 on import). */
export const DATA_ARRAYS = {
  float32: Float32Array,
  int32: Int32Array,
  int64: Int32Array,
  bool: Uint8Array,
} as const satisfies Record<DType, unknown>;

export function allocData(dtype: DType, size: number): TensorData {
  return new DATA_ARRAYS[dtype](size);
}

export function tensor(dtype: DType, dims: readonly number[], data?: ArrayLike<number>): Tensor {
  const out = allocData(dtype, sizeOf(dims));
  if (data) {
    if (data.length !== out.length) {
      throw new RangeError(`tensor data has ${data.length} elements, dims [${dims.join(', ')}] need ${out.length}`);
    }
    out.set(data);
  }
  return { dtype, dims: [...dims], data: out };
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Saturating narrow of an int64 value (as bigint or number) to int32. */
export function narrowInt64(v: bigint | number): number {
  const n = typeof v === 'bigint' ? (v > 2147483647n ? INT32_MAX : v < -2147483648n ? INT32_MIN : Number(v)) : v;
  return n > INT32_MAX ? INT32_MAX : n < INT32_MIN ? INT32_MIN : Math.trunc(n);
}

/** Bytes per element of a dtype in GPU buffers (bool widens to u32 there). */
export const GPU_ELEMENT_BYTES = 4;

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32';
}

export function isInteger(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'int64';
}
