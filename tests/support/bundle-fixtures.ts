/**
 * Models and helpers the bundle tests share: an IR model holding every kind of attribute and
 * tensor the format must carry, a runnable ONNX model with an If on a run-time condition, Ed25519
 * keys, and a way to rewrite a bundle's manifest and seal it again (so the checks behind the
 * digests can be reached).
 */
import { BundleError } from '../../core/errors.js';
import { isGraphAttr, isTensorAttr, type Graph, type Model } from '../../core/ir/graph.js';
import { toBase64Url } from '../../core/sign/message.js';
import { tensor, type Tensor } from '../../core/tensor.js';
import { deflate, inflate } from '../../core/bundle/deflate.js';
import { sha256 } from '../../core/sign/digest.js';
import { dataStart, DIGEST_BYTES, HEADER_BYTES, readHeader, writeHeader } from '../../core/bundle/format.js';
import { buildModel } from './onnx-builder.js';

export const META = { model: { id: 'kitchen-sink', name: 'Kitchen sink', version: 3 } } as const;

const relu = (name: string, input: string, output: string) => ({ name, opType: 'Relu', domain: '', inputs: [input], outputs: [output], attrs: {} });

/**
 * Every attribute kind (numbers incl. NaN and infinities, strings, lists, an empty list, tensors,
 * nested If graphs with their own initializers), every dtype, symbolic dims, a `com.tessera` op with
 * packed int32 weights, and one tensor object held in two places.
 */
export function kitchenSinkModel(): Model {
  const shared = tensor('float32', [2], [0.5, -1.5]);
  const inner: Graph = {
    nodes: [relu('inner_relu', 'x', 'inner_out')],
    inputs: [],
    outputs: [{ name: 'inner_out', dtype: 'float32', dims: ['batch', 8] }],
    initializers: new Map([['inner_w', tensor('float32', [1], [7])]]),
  };
  const thenBranch: Graph = {
    nodes: [{ name: 'nested_if', opType: 'If', domain: '', inputs: ['flag'], outputs: ['then_out'], attrs: { then_branch: inner, else_branch: inner } }],
    inputs: [],
    outputs: [{ name: 'then_out', dtype: 'float32', dims: ['batch', 8] }],
    initializers: new Map([['then_w', tensor('int32', [2, 2], [1, 2, 3, 4])]]),
  };
  const elseBranch: Graph = {
    nodes: [{ name: 'else_const', opType: 'Constant', domain: '', inputs: [], outputs: ['else_out'], attrs: { value: tensor('float32', [1, 8], [1, 2, 3, 4, 5, 6, 7, 8]) } }],
    inputs: [],
    outputs: [{ name: 'else_out', dtype: 'float32', dims: [1, 8] }],
    initializers: new Map(),
  };
  return {
    opset: 17,
    producer: 'tessera-tests',
    graph: {
      inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 8] }, { name: 'flag', dtype: 'bool', dims: [] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3] }],
      initializers: new Map([
        ['W', tensor('int32', [3, 2], [0x01020304, -1, 0, 127, -128, 0x7f7f7f7f])],
        ['wscale', tensor('float32', [3], [0.01, 0.02, 0.03])],
        ['mask', tensor('bool', [4], [1, 0, 0, 1])],
        ['shape', tensor('int64', [2], [-1, 3])],
        ['shared', shared],
        ['empty', tensor('float32', [0, 4])],
      ]),
      nodes: [
        { name: 'const', opType: 'Constant', domain: '', inputs: [], outputs: ['c'], attrs: { value: tensor('int64', [3], [1, -2, 2147483647]) } },
        { name: 'sink', opType: 'Sink', domain: 'com.example', inputs: ['x', ''], outputs: ['s'], attrs: {
          f: 0.25, nan: NaN, pinf: Infinity, ninf: -Infinity, s: 'héllo "quoted"', ints: [1, -2, 3], floats: [0.5, -Infinity, NaN],
          strs: ['a', ''], empty: [], t: shared,
        } },
        { name: 'branch', opType: 'If', domain: '', inputs: ['flag'], outputs: ['b'], attrs: { then_branch: thenBranch, else_branch: elseBranch } },
        { name: 'qmm', opType: 'QMatMul', domain: 'com.tessera', inputs: ['b', 'W', 'wscale', ''], outputs: ['y'], attrs: { k: 8, act_scale: 0.05 } },
      ],
    },
  };
}

/**
 * y = If(sum(x) > 0, then: Relu(x·Wt + bt), else: x·We) for x [2, 3] → y [2, 4]: each branch has its
 * own initializer and reads the outer W, so both the planner's branch handling and the bundle's
 * nested tensors are exercised, on either side of the condition.
 */
export function ifModelOnnx(): Uint8Array {
  const w = (seed: number, n: number) => ({ dtype: 'float32' as const, dims: [3, 4], data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed) / 2) });
  const out = (name: string) => [{ name, dtype: 'float32' as const, dims: [2, 4] }];
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }],
    outputs: out('y'),
    initializers: { W: w(1.3, 12), zero: { dtype: 'float32', dims: [], data: Float32Array.of(0) } },
    nodes: [
      { op: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attrs: { keepdims: 0 } },
      { op: 'Greater', inputs: ['sum', 'zero'], outputs: ['cond'] },
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      {
        op: 'If', inputs: ['cond'], outputs: ['y'], attrs: {
          then_branch: {
            inputs: [], outputs: out('t_out'),
            initializers: { bt: { dtype: 'float32', dims: [4], data: Float32Array.of(0.1, -0.2, 0.3, -0.4) } },
            nodes: [{ op: 'Add', inputs: ['xw', 'bt'], outputs: ['t_sum'] }, { op: 'Relu', inputs: ['t_sum'], outputs: ['t_out'] }],
          },
          else_branch: {
            inputs: [], outputs: out('e_out'),
            initializers: { We: w(0.7, 12) },
            nodes: [{ op: 'MatMul', inputs: ['x', 'We'], outputs: ['e_out'] }],
          },
        },
      },
    ],
  });
}

/** Every tensor of a model, initializers and tensor attributes, in sub-graphs too. */
export function tensorsOf(model: Model): Tensor[] {
  const out: Tensor[] = [];
  const walk = (g: Model['graph']): void => {
    out.push(...g.initializers.values());
    for (const n of g.nodes) {
      for (const a of Object.values(n.attrs)) {
        if (isTensorAttr(a)) out.push(a);
        if (isGraphAttr(a)) walk(a);
      }
    }
  };
  walk(model.graph);
  return out;
}

export async function keyPair(): Promise<{ privateKey: CryptoKey; publicKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))) };
}

/** The error code a promise rejects with ('ok' when it resolves), failing on anything but a BundleError. */
export async function bundleCode(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: unknown) => {
      if (!(e instanceof BundleError)) throw e;
      return e.code;
    },
  );
}

/** The manifest as stored (deflated JSON), as text. */
export async function manifestText(bytes: Uint8Array): Promise<string> {
  const header = readHeader(bytes);
  return new TextDecoder().decode(await inflate(bytes.subarray(HEADER_BYTES, HEADER_BYTES + header.manifestBytes), 2 ** 26));
}

/**
 * The bundle with its manifest bytes replaced (by `edit` of the JSON text, deflated, unless
 * `raw`), its tensors moved to the new data start and the whole-file digest computed afresh: a
 * file whose only fault is the manifest.
 */
export async function resealed(bytes: Uint8Array, edit: (json: string) => string, raw = false): Promise<Uint8Array> {
  const header = readHeader(bytes);
  const text = new TextEncoder().encode(edit(await manifestText(bytes)));
  const manifest = raw ? text : await deflate(text);
  const data = bytes.subarray(dataStart(header.manifestBytes), header.bundleBytes - DIGEST_BYTES);
  const start = dataStart(manifest.byteLength);
  const out = new Uint8Array(start + data.byteLength + DIGEST_BYTES);
  writeHeader(out, { version: header.version, manifestBytes: manifest.byteLength, bundleBytes: out.byteLength });
  out.set(manifest, HEADER_BYTES);
  out.set(data, start);
  out.set(await sha256(out.subarray(0, out.byteLength - DIGEST_BYTES)), out.byteLength - DIGEST_BYTES);
  return out;
}

/** Chunks of awkward sizes (the header split across three of them), as a fetch body might arrive. */
export function chunkedStream(bytes: Uint8Array, sizes: readonly number[] = [5, 1, 13, 7, 4093]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) {
        controller.close();
        return;
      }
      const n = sizes[Math.min(i++, sizes.length - 1)]!;
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}
