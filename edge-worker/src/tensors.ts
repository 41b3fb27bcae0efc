import type { IoInfo } from '../../core/session.js';
import { narrowInt64, sizeOf, tensor, type DType, type Tensor } from '../../core/tensor.js';
import { ApiError } from './errors.js';

/**
 * The JSON tensor format of the CLI's inputs and outputs files:
 * `{"name": {"dims": [...], "type": "float32", "data": [...]}}`, data flat or nested; `type` may be
 * left out, and then is the model's. Every check names the input so a client can fix its request.
 */

const DTYPES: readonly DType[] = ['float32', 'int32', 'int64', 'bool'];

const bad = (message: string) => new ApiError(422, 'invalid_input', message);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseOne(name: string, v: unknown, model: IoInfo | undefined): Tensor {
  if (!model) throw bad(`unknown input "${name}"`);
  if (!isRecord(v)) throw bad(`input "${name}": expected {"dims": [...], "type": "...", "data": [...]}`);
  const { dims, type, data } = v;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`input "${name}": dims must be an array of non-negative integers`);
  }
  // Checked here, before any plan is made for these dims.
  if (dims.length !== model.dims.length || model.dims.some((d, i) => typeof d === 'number' && d !== dims[i])) {
    throw bad(`input "${name}" must have dims [${model.dims.join(', ')}], got [${dims.join(', ')}]`);
  }
  const dtype = (type ?? model.dtype) as DType;
  if (!DTYPES.includes(dtype)) throw bad(`input "${name}": type "${String(type)}" is not one of ${DTYPES.join(', ')}`);
  if (!Array.isArray(data)) throw bad(`input "${name}": data must be an array`);
  const flat: unknown[] = data.flat(Infinity);
  const values = flat.map((x, i) => {
    if (typeof x === 'number') return dtype === 'int64' ? narrowInt64(x) : x;
    if (typeof x === 'boolean' && dtype === 'bool') return Number(x);
    throw bad(`input "${name}": data[${i}] is ${JSON.stringify(x)}, not a ${dtype === 'bool' ? 'boolean or number' : 'number'}`);
  });
  const need = sizeOf(dims as number[]);
  if (values.length !== need) throw bad(`input "${name}": ${values.length} values for dims [${dims.join(', ')}] (${need} needed)`);
  return tensor(dtype, dims as number[], values);
}

/** Every input of the model, each checked against its declaration (names, rank, fixed dims, dtype, value count). */
export function parseFeeds(body: unknown, inputs: readonly IoInfo[]): Record<string, Tensor> {
  if (!isRecord(body)) throw new ApiError(400, 'invalid_json', 'the body must be a JSON object of named tensors');
  const feeds = Object.fromEntries(Object.entries(body).map(([name, v]) => [name, parseOne(name, v, inputs.find((i) => i.name === name))]));
  const missing = inputs.filter((i) => !(i.name in feeds));
  if (missing.length) throw bad(`missing input(s): ${missing.map((i) => `"${i.name}" (${i.dtype} [${i.dims.join(', ')}])`).join(', ')}`);
  return feeds;
}

/** As the CLI writes outputs; a NaN or infinite value becomes null, JSON having no such numbers. */
export function toJson(outputs: Readonly<Record<string, Tensor>>): Record<string, { dims: readonly number[]; type: DType; data: number[] }> {
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { dims: t.dims, type: t.dtype, data: Array.from(t.data) }]));
}
