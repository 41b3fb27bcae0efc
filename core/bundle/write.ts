import { BundleError, ModelFormatError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { loadOnnx, type LoadOnnxOptions } from '../onnx/load-onnx.js';
import { toHex } from '../sign/message.js';
import { DATA_ARRAYS, sizeOf, type Tensor } from '../tensor.js';
import { deflate } from './deflate.js';
import { sha256, sha256Hex } from '../sign/digest.js';
import { alignUp, bundleSizes, dataStart, DIGEST_BYTES, FORMAT_VERSION, HEADER_BYTES, writeHeader, type BundleSizes } from './format.js';
import { encodeGraph } from './graph-codec.js';
import { DENSE, impliedLayouts } from './layouts.js';
import { BundleMeta, Manifest, validate, type BundleManifest, type GraphJson, type TensorEntry } from './manifest.js';

function storedBytes(name: string, t: Tensor): Uint8Array {
  if (!(t.data instanceof DATA_ARRAYS[t.dtype]) || t.data.length !== sizeOf(t.dims)) {
    throw new ModelFormatError(`tensor "${name}": ${t.data.constructor.name} of ${t.data.length} values does not hold ${t.dtype} [${t.dims.join(', ')}]`);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function invalidMeta(problem: string): BundleError {
  return new BundleError('MANIFEST_INVALID', `bundle metadata is invalid: ${problem}`);
}

export interface PackedBundle {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly manifest: BundleManifest;
  readonly sizes: BundleSizes;
  /** The sha256 sealed at the end of the file, lowercase hex. */
  readonly fileDigest: string;
}

export interface StoredTensor {
  readonly name: string;
  readonly tensor: Tensor;
  readonly layout: string;
}

/**
 * The tensors a bundle of `model` holds, in file order, with their layouts (`layouts` by name,
 * else what the consuming op implies, else dense); and the graph that refers to them by index.
 */
export function tensorsToStore(model: Model, layouts: Readonly<Record<string, string>> = {}): { graph: GraphJson; tensors: StoredTensor[] } {
  const { graph, tensors } = encodeGraph(model.graph);
  const implied = impliedLayouts(model.graph);
  return { graph, tensors: tensors.map((t) => ({ ...t, layout: layouts[t.name] ?? implied.get(t.name) ?? DENSE })) };
}

/** Lays out and writes a bundle in one buffer of its final size (docs/bundle-format.md). */
async function buildBundle(model: Model, meta: BundleMeta): Promise<PackedBundle> {
  const checked = validate(BundleMeta, meta);
  if (!checked.ok) throw invalidMeta(checked.problem);
  const { layouts, model: identity, ...opaque } = checked.data;
  const { graph, tensors } = tensorsToStore(model, layouts);
  const blobs = tensors.map(({ name, tensor }) => storedBytes(name, tensor));
  const digests = await Promise.all(blobs.map(sha256Hex));
  let dataBytes = 0;
  const entries: TensorEntry[] = tensors.map(({ name, tensor, layout }, i) => {
    const offset = alignUp(dataBytes);
    const length = blobs[i]!.byteLength;
    dataBytes = offset + length;
    return { name, dtype: tensor.dtype, dims: [...tensor.dims], layout, offset, length, sha256: digests[i]! };
  });

  let json: string;
  try {
    json = JSON.stringify({ format: FORMAT_VERSION, model: identity, opset: model.opset, producer: model.producer, graph, tensors: entries, ...opaque });
  } catch (e) {
    throw invalidMeta((e as Error).message);
  }
  // Checked against the reader's own schema, so a writer never emits what a reader refuses.
  const manifest = validate(Manifest, JSON.parse(json));
  if (!manifest.ok) throw invalidMeta(manifest.problem);

  const manifestBytes = await deflate(new TextEncoder().encode(json));
  const start = dataStart(manifestBytes.byteLength);
  const end = start + dataBytes;
  const out = new Uint8Array(end + DIGEST_BYTES);
  const header = { version: FORMAT_VERSION, manifestBytes: manifestBytes.byteLength, bundleBytes: out.byteLength };
  writeHeader(out, header);
  out.set(manifestBytes, HEADER_BYTES);
  entries.forEach((e, i) => out.set(blobs[i]!, start + e.offset));
  const digest = await sha256(out.subarray(0, end));
  out.set(digest, end);
  const sizes = bundleSizes(header, blobs.reduce((n, b) => n + b.byteLength, 0), 0);
  return { bytes: out, manifest: manifest.data, sizes, fileDigest: toHex(digest) };
}

/** Writes `model` as a bundle: one file, manifest and 64-byte-aligned tensors, sealed with its sha256. */
export async function writeBundle(model: Model, meta: BundleMeta): Promise<Uint8Array<ArrayBuffer>> {
  return (await buildBundle(model, meta)).bytes;
}

/**
 * What tools call to publish a model (the CLI's `pack`, the compressors): an IR model or ONNX
 * bytes in, the bundle out with its manifest and where its bytes went. The compression recipe,
 * lineage and metrics ride in `meta`.
 */
export async function packModel(source: Model | Uint8Array, meta: BundleMeta, options: LoadOnnxOptions = {}): Promise<PackedBundle> {
  return buildBundle(source instanceof Uint8Array ? loadOnnx(source, options) : source, meta);
}
