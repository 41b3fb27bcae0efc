import type { DType, Tensor } from '../tensor.js';

/**
 * The IR: a flat, topologically ordered list of nodes over named values. Shapes are static: the
 * planner resolves every value's dims at load, which is what lets it plan memory and record
 * dispatches once.
 */
export interface ValueInfo {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

export type AttrValue = number | string | Tensor | Graph | readonly number[] | readonly string[];

export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
}

export interface GraphInput {
  readonly name: string;
  readonly dtype: DType;
  /** Symbolic dims (e.g. 'batch') stay as strings until the session binds them. */
  readonly dims: readonly (number | string)[];
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly inputs: readonly GraphInput[];
  readonly outputs: readonly GraphInput[];
  readonly initializers: ReadonlyMap<string, Tensor>;
}

export interface Model {
  readonly graph: Graph;
  /** Opset of the default ('' / 'ai.onnx') domain. */
  readonly opset: number;
  readonly producer: string;
  /**
   * What the import of an already-quantized ONNX model could not carry over exactly (re-quantized
   * weights, dynamic instead of static activation scales, fake quantization dropped), one line each.
   */
  readonly importNotes?: readonly string[];
}

/* Attribute accessors: ONNX attributes are optional with op-specific defaults. */

export function attrInt(attrs: Attrs, name: string, fallback: number): number {
  const v = attrs[name];
  return typeof v === 'number' ? v : fallback;
}

export function attrFloat(attrs: Attrs, name: string, fallback: number): number {
  const v = attrs[name];
  return typeof v === 'number' ? v : fallback;
}

export function attrString(attrs: Attrs, name: string, fallback: string): string {
  const v = attrs[name];
  return typeof v === 'string' ? v : fallback;
}

export function attrInts(attrs: Attrs, name: string): readonly number[] | undefined {
  const v = attrs[name];
  return Array.isArray(v) ? (v as readonly number[]) : undefined;
}

export const isTensorAttr = (v: AttrValue | undefined): v is Tensor => typeof v === 'object' && v !== null && 'data' in v;

export const isGraphAttr = (v: AttrValue | undefined): v is Graph => typeof v === 'object' && v !== null && 'nodes' in v;

export function attrTensor(attrs: Attrs, name: string): Tensor | undefined {
  const v = attrs[name];
  return isTensorAttr(v) ? v : undefined;
}
