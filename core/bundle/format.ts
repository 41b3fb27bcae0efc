import { BundleError } from '../errors.js';
import type { DType } from '../tensor.js';

/**
 * The fixed parts of a bundle file (docs/bundle-format.md): the 24-byte header, where the data
 * section starts, and the 32-byte digest and 64-byte signature that may close it.
 *
 * The magic is the one the control plane's upload check (control-plane/src/artifact-format.ts)
 * already recognises: `TESSERA\0` then a u32 format version, so a packed bundle publishes as is.
 */
const MAGIC = Uint8Array.of(0x54, 0x45, 0x53, 0x53, 0x45, 0x52, 0x41, 0x00);
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;
/** Every tensor starts on this boundary: a typed-array view (and a GPU upload) of it needs no copy. */
export const ALIGNMENT = 64;
export const DIGEST_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Most bytes a manifest may inflate to: far above any real graph, far below what would exhaust a Worker. */
export const MAX_MANIFEST_JSON = 64 * 2 ** 20;

/**
 * Bytes per stored element: tensors are stored as the runtime holds them (core/tensor.ts), int64
 * already narrowed to 32 bits and bool one byte each, so reading one back is a view, not a decode.
 */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, int64: 4, bool: 1 };

export interface Header {
  readonly version: number;
  readonly manifestBytes: number;
  /** Length of the bundle proper: header through the whole-file digest, without a signature trailer. */
  readonly bundleBytes: number;
}

export const alignUp = (n: number, a = ALIGNMENT): number => Math.ceil(n / a) * a;

/** Where the tensor blobs begin: after the header and manifest, on an ALIGNMENT boundary. */
export const dataStart = (manifestBytes: number): number => alignUp(HEADER_BYTES + manifestBytes);

export function isBundle(bytes: Uint8Array): boolean {
  return bytes.byteLength >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

export function writeHeader(out: Uint8Array, header: Header): void {
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  view.setUint32(8, header.version, true);
  view.setUint32(12, header.manifestBytes, true);
  view.setBigUint64(16, BigInt(header.bundleBytes), true);
}

/**
 * Reads and checks the header: the magic, a version this reader knows, and lengths that leave
 * room for the manifest and the digest. Needs only the first HEADER_BYTES, so a stream can size
 * its buffer from it.
 */
export function readHeader(bytes: Uint8Array): Header {
  const prefix = bytes.subarray(0, MAGIC.length);
  if (!prefix.every((b, i) => b === MAGIC[i])) throw new BundleError('BAD_MAGIC', 'not a Tessera bundle (the file does not start with "TESSERA\\0")');
  if (bytes.byteLength < HEADER_BYTES) throw new BundleError('TRUNCATED', `bundle truncated inside its ${HEADER_BYTES}-byte header (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    throw new BundleError('UNSUPPORTED_VERSION', `bundle format version ${version} is not supported; this Tessera reads version ${FORMAT_VERSION}`);
  }
  const manifestBytes = view.getUint32(12, true);
  const length = view.getBigUint64(16, true);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new BundleError('TOO_LARGE', `bundle header declares ${length} bytes`);
  const bundleBytes = Number(length);
  if (bundleBytes < dataStart(manifestBytes) + DIGEST_BYTES) {
    throw new BundleError('HEADER_INVALID', `bundle header declares ${bundleBytes} bytes, too few for its ${manifestBytes}-byte manifest and digest`);
  }
  return { version, manifestBytes, bundleBytes };
}

/** Where a bundle's bytes go; `padding` is what alignment costs. */
export interface BundleSizes {
  readonly total: number;
  readonly header: number;
  readonly manifest: number;
  readonly tensors: number;
  readonly padding: number;
  readonly digest: number;
  readonly signature: number;
}

export function bundleSizes(header: Header, tensorBytes: number, signatureBytes: number): BundleSizes {
  return {
    total: header.bundleBytes + signatureBytes,
    header: HEADER_BYTES,
    manifest: header.manifestBytes,
    tensors: tensorBytes,
    padding: header.bundleBytes - HEADER_BYTES - header.manifestBytes - tensorBytes - DIGEST_BYTES,
    digest: DIGEST_BYTES,
    signature: signatureBytes,
  };
}

/** The file's bytes split at the header's length: the bundle proper and an optional signature. */
export function splitTrailer(bytes: Uint8Array, header: Header): { bundle: Uint8Array; trailer?: Uint8Array } {
  const extra = bytes.byteLength - header.bundleBytes;
  if (extra < 0) throw new BundleError('TRUNCATED', `bundle truncated: ${bytes.byteLength} of ${header.bundleBytes} bytes`);
  if (extra === 0) return { bundle: bytes };
  if (extra < SIGNATURE_BYTES) throw new BundleError('TRUNCATED', `bundle signature truncated: ${extra} of ${SIGNATURE_BYTES} bytes after the digest`);
  if (extra > SIGNATURE_BYTES) {
    throw new BundleError('TRAILING_DATA', `${extra} bytes follow the bundle's digest; only a ${SIGNATURE_BYTES}-byte signature may`);
  }
  return { bundle: bytes.subarray(0, header.bundleBytes), trailer: bytes.subarray(header.bundleBytes) };
}
