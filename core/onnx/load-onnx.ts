import onnxProto from 'onnx-proto';
import { ModelFormatError } from '../errors.js';
import type { AttrValue, Graph, GraphInput, Model, Node } from '../ir/graph.js';
import { halfToFloat } from '../half.js';
import type { StoredType } from './import-graph.js';
import { importQuantized } from './quantized-import.js';
import { narrowInt64, type DType, type Tensor, type TensorData, sizeOf } from '../tensor.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** protobufjs hands int64 fields back as Long objects (or numbers when `long` is absent). */
type LongLike = number | { toNumber(): number; low: number; high: number };

function num(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function int64(v: LongLike): number {
  if (typeof v === 'number') return narrowInt64(v);
  return narrowInt64((BigInt(v.high) << 32n) | BigInt(v.low >>> 0));
}

/** Maps an ONNX element type onto the runtime's dtypes; undefined for types Tessera does not hold. */
function dtypeOf(elemType: number): DType | undefined {
  switch (elemType) {
    case T.FLOAT:
    case T.DOUBLE:
    case T.FLOAT16:
      return 'float32';
    case T.INT64:
      return 'int64';
    case T.INT32:
    case T.INT16:
    case T.INT8:
    case T.UINT8:
    case T.UINT16:
      return 'int32';
    case T.BOOL:
      return 'bool';
    default:
      return undefined;
  }
}

function decodeRaw(raw: Uint8Array, elemType: number, n: number, name: string): ArrayLike<number> {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const width: Record<number, number> = {
    [T.FLOAT]: 4, [T.DOUBLE]: 8, [T.FLOAT16]: 2, [T.INT64]: 8, [T.INT32]: 4,
    [T.INT16]: 2, [T.UINT16]: 2, [T.INT8]: 1, [T.UINT8]: 1, [T.BOOL]: 1,
  };
  const w = width[elemType]!;
  if (raw.byteLength !== n * w) {
    throw new ModelFormatError(`tensor "${name}": raw data holds ${raw.byteLength} bytes, its shape needs ${n * w}`);
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (elemType) {
      case T.FLOAT: out[i] = view.getFloat32(o, true); break;
      case T.DOUBLE: out[i] = view.getFloat64(o, true); break;
      case T.FLOAT16: out[i] = halfToFloat(view.getUint16(o, true)); break;
      case T.INT64: out[i] = narrowInt64(view.getBigInt64(o, true)); break;
      case T.INT32: out[i] = view.getInt32(o, true); break;
      case T.INT16: out[i] = view.getInt16(o, true); break;
      case T.UINT16: out[i] = view.getUint16(o, true); break;
      case T.INT8: out[i] = view.getInt8(o); break;
      default: out[i] = view.getUint8(o);
    }
  }
  return out;
}

/** External tensor data, keyed by the `location` entry of the tensor's external_data. */
export type ExternalData = ReadonlyMap<string, Uint8Array>;

function decodeTensor(t: onnxProto.onnx.ITensorProto, external?: ExternalData): Tensor {
  const name = t.name ?? '';
  const elemType = t.dataType ?? 0;
  const dtype = dtypeOf(elemType);
  if (!dtype) throw new ModelFormatError(`tensor "${name}" has element type ${T[elemType] ?? elemType}, which Tessera does not support`);
  const dims = (t.dims ?? []).map(num);
  const n = sizeOf(dims);
  let values: ArrayLike<number>;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location') ?? '';
    const file = external?.get(location);
    if (!file) {
      throw new ModelFormatError(`tensor "${name}" keeps its data in external file "${location}", which was not provided (pass it in load options: externalData)`);
    }
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : file.byteLength - offset;
    if (offset + length > file.byteLength) throw new ModelFormatError(`tensor "${name}": external file "${location}" is too short`);
    values = decodeRaw(file.subarray(offset, offset + length), elemType, n, name);
  } else if (t.rawData && t.rawData.length > 0) {
    values = decodeRaw(t.rawData, elemType, n, name);
  } else if (elemType === T.FLOAT) {
    values = t.floatData ?? [];
  } else if (elemType === T.DOUBLE) {
    values = t.doubleData ?? [];
  } else if (elemType === T.INT64) {
    values = (t.int64Data ?? []).map((v) => int64(v as LongLike));
  } else if (elemType === T.FLOAT16) {
    values = (t.int32Data ?? []).map(halfToFloat);
  } else {
    values = t.int32Data ?? [];
  }
  if (values.length !== n) {
    throw new ModelFormatError(`tensor "${name}" has ${values.length} values, its dims [${dims.join(', ')}] need ${n}`);
  }
  const data: TensorData = dtype === 'float32' ? new Float32Array(n) : dtype === 'bool' ? new Uint8Array(n) : new Int32Array(n);
  data.set(values);
  return { dtype, dims, data };
}

function decodeAttr(a: onnxProto.onnx.IAttributeProto, external?: ExternalData): AttrValue | undefined {
  switch (a.type) {
    case A.FLOAT: return a.f ?? 0;
    case A.INT: return int64(a.i as LongLike);
    case A.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case A.TENSOR: return decodeTensor(a.t!, external);
    case A.GRAPH: return decodeGraph(a.g!, external);
    case A.FLOATS: return [...(a.floats ?? [])];
    case A.INTS: return (a.ints ?? []).map((v) => int64(v as LongLike));
    case A.STRINGS: return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    default: return undefined;
  }
}

function decodeValueInfo(v: onnxProto.onnx.IValueInfoProto): GraphInput {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  const dtype = tt ? dtypeOf(tt.elemType ?? 0) : undefined;
  if (!dtype) throw new ModelFormatError(`graph value "${name}" has a type Tessera does not support`);
  const dims = (tt!.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue as LongLike) : '?'));
  return { name, dtype, dims };
}

function decodeGraph(g: onnxProto.onnx.IGraphProto, external?: ExternalData): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', decodeTensor(t, external));
  const nodes: Node[] = (g.node ?? []).map((n, i) => {
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) {
      const v = decodeAttr(a, external);
      if (v !== undefined) attrs[a.name ?? ''] = v;
    }
    return {
      name: n.name || `${n.opType}_${i}`,
      opType: n.opType ?? '',
      domain: n.domain === 'ai.onnx' ? '' : n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs,
    };
  });
  return {
    nodes,
    // Older exporters list initializers among the inputs; they are weights, not feeds.
    inputs: (g.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(decodeValueInfo),
    outputs: (g.output ?? []).map((v) => (v.type?.tensorType ? decodeValueInfo(v) : { name: v.name ?? '', dtype: 'float32', dims: [] })),
    initializers,
  };
}

const STORED: Partial<Record<number, StoredType>> = { [T.INT8]: 'int8', [T.UINT8]: 'uint8', [T.FLOAT16]: 'float16' };

/** The element types decodeTensor widens that the quantized import tells apart, for initializers and Constant values. */
function storedTypes(g: onnxProto.onnx.IGraphProto): Map<string, StoredType> {
  const types = new Map<string, StoredType>();
  const note = (name: string, t: onnxProto.onnx.ITensorProto): void => {
    const s = STORED[t.dataType ?? 0];
    if (s) types.set(name, s);
  };
  for (const t of g.initializer ?? []) note(t.name ?? '', t);
  for (const n of g.node ?? []) {
    const value = n.opType === 'Constant' ? n.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && n.output?.[0]) note(n.output[0], value);
  }
  return types;
}

export interface LoadOnnxOptions {
  readonly externalData?: ExternalData;
}

/**
 * Parses an ONNX ModelProto. Any structural problem becomes a ModelFormatError naming it. Quantized
 * layers (QDQ, MatMulInteger, MatMulNBits) come back as com.tessera ops (quantized-import.ts).
 */
export function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): Model {
  if (bytes.byteLength === 0) throw new ModelFormatError('model file is empty');
  let proto: onnxProto.onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new ModelFormatError(`not a valid ONNX file (${(cause as Error).message}); is it truncated?`, { cause });
  }
  if (!proto.graph) throw new ModelFormatError('ONNX file has no graph; is it truncated or not an ONNX model?');
  const defaultOpset = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = defaultOpset ? num(defaultOpset.version as LongLike) : 0;
  if (opset < 7 || opset > 23) {
    throw new ModelFormatError(`model declares opset ${opset}; Tessera reads opsets 7 to 23`);
  }
  const model = { graph: decodeGraph(proto.graph, options.externalData), opset, producer: proto.producerName ?? '' };
  return importQuantized(model, storedTypes(proto.graph));
}

/** Decodes a serialized TensorProto (the `.pb` files of ONNX test data sets). */
export function decodeTensorProto(bytes: Uint8Array): { name: string; tensor: Tensor } {
  let proto: onnxProto.onnx.TensorProto;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch (cause) {
    throw new ModelFormatError(`not a valid TensorProto (${(cause as Error).message})`, { cause });
  }
  return { name: proto.name ?? '', tensor: decodeTensor(proto) };
}
