/**
 * Writes ONNX ModelProto bytes with onnx-proto from a plain description of a graph: the exporter of
 * models the project trains itself and the tests' model builder both write through here, so the
 * bytes they make go through the same loader as any model file.
 */
import onnxProto from 'onnx-proto';
import { floatToHalf } from '../half.js';
import type { DType, Tensor } from '../tensor.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const ELEM: Record<DType, number> = { float32: T.FLOAT, int32: T.INT32, int64: T.INT64, bool: T.BOOL };

export interface ValueSpec {
  readonly name: string;
  readonly dtype: DType;
  /** Numbers are fixed dims, strings symbolic ones. */
  readonly dims: readonly (number | string)[];
}

export type AttrSpec = number | readonly number[] | GraphSpec;

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly domain?: string;
  /**
   * Integers become INT(S), other numbers FLOAT(S); a GraphSpec becomes a GRAPH attribute. A float
   * attribute with an integral value (alpha = 1) cannot be written: leave it to its default.
   */
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
}

/**
 * An initializer stored as an ONNX element type the runtime widens on load (int8, uint8 and
 * float16): quantized models keep their weights, zero points and scales in these.
 */
export interface StoredAs {
  readonly tensor: Tensor;
  readonly as: 'int8' | 'uint8' | 'float16';
}

export const storedAs = (as: StoredAs['as'], dtype: Tensor['dtype'], dims: readonly number[], values: ArrayLike<number>): StoredAs => ({
  as, tensor: { dtype, dims, data: dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values) },
});

export interface GraphSpec {
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: Readonly<Record<string, Tensor | StoredAs>>;
}

export interface ModelSpecOptions {
  /** The default domain's opset. */
  readonly opset?: number;
  /** Other operator domains the graph uses (each at version 1), e.g. `com.tessera`. */
  readonly domains?: readonly string[];
  readonly producer?: string;
  readonly docString?: string;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.dtype], shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** int8/uint8/float16 go as raw little-endian bytes, the form exporters write. */
function storedProto(name: string, { tensor: t, as }: StoredAs): onnxProto.onnx.ITensorProto {
  const width = as === 'float16' ? 2 : 1;
  const raw = new DataView(new ArrayBuffer(t.data.length * width));
  t.data.forEach((v, i) => {
    if (as === 'float16') raw.setUint16(i * 2, floatToHalf(v), true);
    else if (as === 'int8') raw.setInt8(i, v);
    else raw.setUint8(i, v);
  });
  const dataType = { int8: T.INT8, uint8: T.UINT8, float16: T.FLOAT16 }[as];
  return { name, dims: [...t.dims], dataType, rawData: new Uint8Array(raw.buffer) };
}

function tensorProto(name: string, init: Tensor | StoredAs): onnxProto.onnx.ITensorProto {
  if ('as' in init) return storedProto(name, init);
  const t = init;
  const base = { name, dims: [...t.dims], dataType: ELEM[t.dtype] };
  if (t.dtype === 'float32') return { ...base, floatData: [...t.data] };
  if (t.dtype === 'int64') return { ...base, int64Data: [...t.data] };
  return { ...base, int32Data: [...t.data] };
}

function attribute(name: string, v: AttrSpec): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  if (Array.isArray(v)) {
    const ints = (v as readonly number[]).every(Number.isInteger);
    return ints ? { name, type: A.INTS, ints: [...(v as number[])] } : { name, type: A.FLOATS, floats: [...(v as number[])] };
  }
  return { name, type: A.GRAPH, g: graphProto(v as GraphSpec, name) };
}

function graphProto(g: GraphSpec, name: string): onnxProto.onnx.IGraphProto {
  return {
    name,
    node: g.nodes.map((n, i) => ({
      name: `${n.op}_${i}`,
      opType: n.op,
      domain: n.domain ?? '',
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: Object.entries(g.initializers ?? {}).map(([k, t]) => tensorProto(k, t)),
  };
}

/** The ModelProto bytes of a graph (IR version 8). */
export function encodeModel(graph: GraphSpec, options: ModelSpecOptions = {}): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: options.producer ?? 'tessera',
    ...(options.docString ? { docString: options.docString } : {}),
    opsetImport: [{ domain: '', version: options.opset ?? 17 }, ...(options.domains ?? []).map((domain) => ({ domain, version: 1 }))],
    graph: graphProto(graph, 'main'),
  }).finish();
}
