import { BundleError } from '../errors.js';
import { fromBase64Url, signedMessage, toBase64Url } from '../sign/message.js';
import { sha256Hex } from '../sign/digest.js';
import { readHeader, SIGNATURE_BYTES, splitTrailer } from './format.js';
import { readBundle } from './read.js';
import type { SignedAs } from './signature.js';

/**
 * The publisher's side of bundle signatures: the same Ed25519 signature the control plane makes
 * for an artifact (core/sign), here made offline with the publisher's own key.
 */

/** What a signature covers and the registry records on publish: the sha256 (hex) of the bundle before any signature trailer. */
export async function artifactDigest(bytes: Uint8Array): Promise<string> {
  return sha256Hex(splitTrailer(bytes, readHeader(bytes)).bundle);
}

/** Checks the bundle whole, then signs it as `signedAs` (default: its manifest's id and version). Returns base64url. */
export async function signBundle(bytes: Uint8Array, privateKey: CryptoKey, signedAs?: SignedAs): Promise<string> {
  const { manifest } = await readBundle(bytes);
  const message = signedMessage({ ...(signedAs ?? { model: manifest.model.id, version: manifest.model.version }), digest: await artifactDigest(bytes) });
  return toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, message)));
}

/** The bundle with `signature` as its trailer, in place of any it had. */
export function withSignature(bytes: Uint8Array, signature: string): Uint8Array<ArrayBuffer> {
  const raw = fromBase64Url(signature);
  if (!raw || raw.length !== SIGNATURE_BYTES) throw new BundleError('SIGNATURE_MALFORMED', `signature must be ${SIGNATURE_BYTES} bytes of base64url`);
  const { bundle } = splitTrailer(bytes, readHeader(bytes));
  const out = new Uint8Array(bundle.byteLength + SIGNATURE_BYTES);
  out.set(bundle);
  out.set(raw, bundle.byteLength);
  return out;
}
