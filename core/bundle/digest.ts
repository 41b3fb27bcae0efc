import { toHex } from '../sign/message.js';

/**
 * SHA-256 through WebCrypto, present in Node 20, browsers and Workers alike. Its typing wants a
 * view of a plain ArrayBuffer, which is what bundles are read into (browsers refuse shared memory).
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}
