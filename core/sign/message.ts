/**
 * What the control plane signs for each published version. Binding the model name and version
 * number into the message (not just the digest) stops a valid signature for one model or version
 * being replayed to vouch for another artifact slot.
 */
export const SIGNATURE_DOMAIN = 'tessera-artifact-v1';

export interface SignedArtifact {
  readonly model: string;
  readonly version: number;
  /** Lowercase hex sha256 of the artifact bytes. */
  readonly digest: string;
}

export function signedMessage({ model, version, digest }: SignedArtifact): Uint8Array<ArrayBuffer> {
  // Copied so the result is backed by a plain ArrayBuffer, as WebCrypto's BufferSource typing wants.
  return new Uint8Array(new TextEncoder().encode(`${SIGNATURE_DOMAIN}\n${model}\n${version}\n${digest}`));
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Returns undefined for anything that is not canonical base64url, so callers can raise their own error. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
