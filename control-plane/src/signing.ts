import { fromBase64Url, signedMessage, toBase64Url, toHex, type SignedArtifact } from '../../core/sign/message.js';
import type { AppEnv } from './env.js';
import { ApiError } from './errors.js';

export interface Signer {
  /** base64url raw Ed25519 public key, as `core/sign` verification expects it. */
  readonly publicKey: string;
  /** Short fingerprint of the public key, recorded with each signature for key rotation. */
  readonly keyId: string;
  sign(artifact: SignedArtifact): Promise<string>;
}

// Importing the key costs more than signing; keep it per isolate, re-importing if the secret changes.
let cached: { source: string; signer: Signer } | undefined;

export async function getSigner(env: AppEnv): Promise<Signer> {
  const source = env.SIGNING_KEY;
  if (cached?.source === source) return cached.signer;
  if (!source) throw new ApiError(503, 'signing_unconfigured', 'SIGNING_KEY secret is not set');
  let jwk: JsonWebKey;
  let key: CryptoKey;
  try {
    jwk = JSON.parse(source) as JsonWebKey;
    key = await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']);
  } catch {
    throw new ApiError(503, 'signing_unconfigured', 'SIGNING_KEY is not an Ed25519 private JWK');
  }
  const raw = fromBase64Url(jwk.x ?? '');
  if (!raw || raw.length !== 32) throw new ApiError(503, 'signing_unconfigured', 'SIGNING_KEY has no valid public part (x)');
  const keyId = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', raw))).slice(0, 16);
  const signer: Signer = {
    publicKey: toBase64Url(raw),
    keyId,
    async sign(artifact) {
      return toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, signedMessage(artifact))));
    },
  };
  cached = { source, signer };
  return signer;
}
