import { TesseraError } from '../errors.js';
import { sha256Hex } from './digest.js';
import { fromBase64Url, signedMessage, type SignedArtifact } from './message.js';

/**
 * Client-side check that an artifact is the one the control plane published: its bytes hash to
 * the advertised digest, and the Ed25519 signature over (model, version, digest) verifies under
 * the control plane's public key (served at `/v1/signing-key`).
 */
export class SignatureError extends TesseraError {
  constructor(code: 'SIGNATURE_INVALID' | 'SIGNATURE_MALFORMED' | 'DIGEST_MISMATCH' | 'SIGNATURE_UNSUPPORTED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Imports a raw 32-byte Ed25519 public key given as base64url. */
export async function importPublicKey(publicKey: string): Promise<CryptoKey> {
  const raw = fromBase64Url(publicKey);
  if (!raw || raw.length !== 32) throw new SignatureError('SIGNATURE_MALFORMED', 'public key must be 32 bytes of base64url');
  try {
    return await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  } catch (cause) {
    throw new SignatureError('SIGNATURE_UNSUPPORTED', 'this runtime cannot import Ed25519 keys (WebCrypto Ed25519 missing)', { cause });
  }
}

export interface VerifyOptions extends SignedArtifact {
  /** base64url Ed25519 signature from the resolve answer. */
  readonly signature: string;
  /** base64url raw public key, or a key already imported with `importPublicKey`. */
  readonly publicKey: string | CryptoKey;
  /** When given, the bytes are hashed and must match `digest`. */
  readonly bytes?: ArrayBuffer | Uint8Array<ArrayBuffer>;
}

/** Resolves when the artifact is authentic; throws `SignatureError` otherwise. */
export async function verifyArtifact(options: VerifyOptions): Promise<void> {
  const { signature, publicKey, bytes, ...artifact } = options;
  if (!/^[0-9a-f]{64}$/.test(artifact.digest)) throw new SignatureError('SIGNATURE_MALFORMED', 'digest must be 64 lowercase hex characters');
  if (bytes !== undefined) {
    const actual = await sha256Hex(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    if (actual !== artifact.digest) {
      throw new SignatureError('DIGEST_MISMATCH', `artifact sha256 is ${actual}, expected ${artifact.digest}`);
    }
  }
  const sig = fromBase64Url(signature);
  if (!sig || sig.length !== 64) throw new SignatureError('SIGNATURE_MALFORMED', 'signature must be 64 bytes of base64url');
  const key = typeof publicKey === 'string' ? await importPublicKey(publicKey) : publicKey;
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, signedMessage(artifact));
  if (!ok) {
    throw new SignatureError('SIGNATURE_INVALID', `signature does not verify for ${artifact.model} v${artifact.version}`);
  }
}
