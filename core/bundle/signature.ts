import { BundleError, type BundleErrorCode } from '../errors.js';
import { SignatureError, verifyArtifact } from '../sign/verify.js';
import { sha256Hex } from '../sign/digest.js';

/**
 * Whether an artifact (a bundle, or ONNX bytes) is vouched for, by the one signing scheme the
 * control plane already uses (core/sign): Ed25519 over `signedMessage({ model, version, digest })`,
 * with `digest` the sha256 of the artifact's bytes. For a bundle those bytes are the bundle without
 * its signature trailer, which is exactly what the registry hashes when an unsigned bundle is
 * published, so the signature a registry's resolve answer carries verifies here unchanged.
 */

/** The registry slot a signature names. */
export interface SignedAs {
  readonly model: string;
  readonly version: number;
}

export interface SignatureOptions {
  /** The publisher's Ed25519 key: base64url of the raw 32 bytes, or a key imported with `importPublicKey`. */
  readonly publicKey?: string | CryptoKey;
  /** base64url signature, detached (e.g. from the registry's resolve answer); overrides one in the bundle. */
  readonly signature?: string;
  /** Refuse an artifact without a signature that verifies under `publicKey`. */
  readonly requireSignature?: boolean;
  /**
   * The model and version the signature names; a bundle defaults to its manifest's id and version.
   * ONNX carries no identity, so checking its signature needs this.
   */
  readonly signedAs?: SignedAs;
}

/**
 * Applies the caller's policy: with a key and a signature, the signature must verify; with
 * `requireSignature`, there must be both. Resolves to whether a signature was verified.
 */
export async function checkSignature(
  artifact: Uint8Array,
  identity: SignedAs | undefined,
  carried: string | undefined,
  options: SignatureOptions,
): Promise<boolean> {
  const { publicKey, requireSignature } = options;
  const signature = options.signature ?? carried;
  if (requireSignature && !publicKey) throw new BundleError('SIGNATURE_REQUIRED', 'requireSignature needs the publisher\'s publicKey to check the signature against');
  if (!signature || !publicKey) {
    if (requireSignature) throw new BundleError('SIGNATURE_REQUIRED', 'a signature is required, and neither the bundle nor the options carry one');
    return false;
  }
  const as = options.signedAs ?? identity;
  if (!as) throw new BundleError('SIGNATURE_REQUIRED', 'an ONNX model names no model or version; pass signedAs: { model, version } to check its signature');
  try {
    await verifyArtifact({ ...as, digest: await sha256Hex(artifact), signature, publicKey });
  } catch (e) {
    // verifyArtifact is given no bytes, so its codes are the signature ones, which BundleError shares.
    if (e instanceof SignatureError) throw new BundleError(e.code as BundleErrorCode, e.message, { cause: e });
    throw e;
  }
  return true;
}
