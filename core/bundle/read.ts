import { BundleError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { toBase64Url, toHex } from '../sign/message.js';
import { sizeOf, type Tensor, type TensorData } from '../tensor.js';
import { inflate } from './deflate.js';
import { sha256, sha256Hex } from '../sign/digest.js';
import { ALIGNMENT, bundleSizes, dataStart, DIGEST_BYTES, ELEMENT_BYTES, HEADER_BYTES, MAX_MANIFEST_JSON, readHeader, splitTrailer, type BundleSizes, type Header } from './format.js';
import { decodeGraph } from './graph-codec.js';
import { Manifest, validate, type BundleManifest, type TensorEntry } from './manifest.js';
import { checkSignature, type SignatureOptions } from './signature.js';

export type ReadBundleOptions = SignatureOptions;

export interface BundleContents {
  readonly model: Model;
  readonly manifest: BundleManifest;
  /** The sha256 sealed into the bundle (of every byte before it), lowercase hex. */
  readonly fileDigest: string;
  /** The signature the bundle carries in its trailer, base64url. */
  readonly embeddedSignature?: string;
  /** A signature was checked against the caller's public key and holds. */
  readonly verified: boolean;
  readonly sizes: BundleSizes;
}

const invalid = (problem: string): BundleError => new BundleError('MANIFEST_INVALID', `bundle manifest is invalid: ${problem}`);

/** The manifest of a bundle whose header has been read: deflated JSON, the schema, and a tensor table that fits the file. */
async function parseManifest(bundle: Uint8Array, header: Header): Promise<BundleManifest> {
  let json: unknown;
  try {
    const text = await inflate(bundle.subarray(HEADER_BYTES, HEADER_BYTES + header.manifestBytes), MAX_MANIFEST_JSON);
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    throw invalid((e as Error).message);
  }
  const parsed = validate(Manifest, json);
  if (!parsed.ok) throw invalid(parsed.problem);
  const room = header.bundleBytes - DIGEST_BYTES - dataStart(header.manifestBytes);
  for (const t of parsed.data.tensors) {
    const want = sizeOf(t.dims) * ELEMENT_BYTES[t.dtype];
    if (t.length !== want) throw invalid(`tensor "${t.name}" has ${t.length} bytes; ${t.dtype} [${t.dims.join(', ')}] takes ${want}`);
    if (t.offset % ALIGNMENT !== 0) throw invalid(`tensor "${t.name}" starts at ${t.offset}, not a multiple of ${ALIGNMENT}`);
    if (t.offset + t.length > room) throw invalid(`tensor "${t.name}" runs past the data section (${t.offset + t.length} > ${room} bytes)`);
  }
  return parsed.data;
}

/**
 * The tensor as a typed array over the bundle's own bytes. The format aligns every tensor, so this
 * is a view unless the caller's array itself starts off a 4-byte boundary; then that tensor alone
 * is copied.
 */
function tensorView(bytes: Uint8Array, at: number, t: TensorEntry): TensorData {
  const n = sizeOf(t.dims);
  if (t.dtype === 'bool') return new Uint8Array(bytes.buffer, bytes.byteOffset + at, n);
  const aligned = (bytes.byteOffset + at) % 4 === 0;
  const buffer = aligned ? bytes.buffer : bytes.slice(at, at + t.length).buffer;
  const offset = aligned ? bytes.byteOffset + at : 0;
  return t.dtype === 'float32' ? new Float32Array(buffer, offset, n) : new Int32Array(buffer, offset, n);
}

interface Verdicts {
  readonly manifest: BundleManifest | BundleError;
  readonly fileDigestOk: boolean;
  readonly badTensor?: TensorEntry;
}

/**
 * Hashes the whole and, alongside, the tensors one after another: WebCrypto copies what it hashes,
 * so this holds at most one more copy of the bundle and one of a tensor, where hashing every tensor
 * at once would add a second copy of the model. When the whole is wrong and a tensor is too, the
 * tensor is named, which says more than "the file is corrupt".
 */
async function verifyDigests(bundle: Uint8Array, header: Header): Promise<Verdicts> {
  let manifest: BundleManifest | BundleError;
  try {
    manifest = await parseManifest(bundle, header);
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    manifest = e;
  }
  const end = header.bundleBytes - DIGEST_BYTES;
  const start = dataStart(header.manifestBytes);
  const whole = sha256(bundle.subarray(0, end));
  let badTensor: TensorEntry | undefined;
  for (const t of manifest instanceof BundleError ? [] : manifest.tensors) {
    if ((await sha256Hex(bundle.subarray(start + t.offset, start + t.offset + t.length))) !== t.sha256) {
      badTensor = t;
      break;
    }
  }
  const fileDigestOk = (await whole).every((b, i) => b === bundle[end + i]);
  return { manifest, fileDigestOk, badTensor };
}

/**
 * Reads a bundle, checking in order: header (magic, version, length), every tensor's sha256 and
 * the whole-file sha256, the manifest, and the signature by the caller's policy. Nothing is
 * returned until all of it holds. Tensors come back as views into `source` (no copy): keep those
 * bytes unchanged, and untransferred, while the model is in use.
 */
export async function readBundle(source: Uint8Array | ArrayBuffer, options: ReadBundleOptions = {}): Promise<BundleContents> {
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  const header = readHeader(bytes);
  const { bundle, trailer } = splitTrailer(bytes, header);
  const { manifest, fileDigestOk, badTensor } = await verifyDigests(bundle, header);
  if (badTensor) throw new BundleError('TENSOR_DIGEST_MISMATCH', `tensor "${badTensor.name}" does not match its sha256: the bundle is corrupt`);
  const fileDigest = toHex(bundle.subarray(header.bundleBytes - DIGEST_BYTES));
  if (!fileDigestOk) {
    const alsoManifest = manifest instanceof BundleError ? ` (${manifest.message})` : '';
    throw new BundleError('FILE_DIGEST_MISMATCH', `bundle does not match its sha256 ${fileDigest}: the bundle is corrupt${alsoManifest}`);
  }
  if (manifest instanceof BundleError) throw manifest;

  const embeddedSignature = trailer && toBase64Url(trailer);
  const verified = await checkSignature(bundle, { model: manifest.model.id, version: manifest.model.version }, embeddedSignature, options);

  const start = dataStart(header.manifestBytes);
  const tensors: Tensor[] = manifest.tensors.map((t) => ({ dtype: t.dtype, dims: t.dims, data: tensorView(bytes, start + t.offset, t) }));
  const model: Model = { graph: decodeGraph(manifest.graph, tensors), opset: manifest.opset, producer: manifest.producer };
  const sizes = bundleSizes(header, manifest.tensors.reduce((n, t) => n + t.length, 0), trailer?.byteLength ?? 0);
  return { model, manifest, fileDigest, embeddedSignature, verified, sizes };
}
