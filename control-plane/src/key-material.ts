import { toBase64Url, toHex } from '../../core/sign/message.js';

/**
 * API keys look like `tsk_<id>_<secret>`. Only sha256(key) is stored: the secret has 256 bits of
 * entropy, so a fast hash is enough (no password-style stretching needed) and lookups stay O(1).
 * Runs in Workers and in Node (the dev seed script), hence WebCrypto only.
 */
export const SCOPES = ['admin', 'publisher', 'client'] as const;
export type Scope = (typeof SCOPES)[number];

export async function hashKey(plaintext: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(plaintext))));
}

export async function mintKey(): Promise<{ id: string; plaintext: string; hash: string }> {
  const id = toHex(crypto.getRandomValues(new Uint8Array(6)));
  const plaintext = `tsk_${id}_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { id, plaintext, hash: await hashKey(plaintext) };
}
