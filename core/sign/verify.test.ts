import { describe, expect, it } from 'vitest';
import { signedMessage, toBase64Url, toHex } from './message.js';
import { SignatureError, verifyArtifact } from './verify.js';

async function fixture() {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  const bytes = new Uint8Array([1, 2, 3, 4, 5]);
  const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
  const artifact = { model: 'mnist', version: 3, digest };
  const signature = toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, signedMessage(artifact))));
  return { publicKey, bytes, artifact, signature };
}

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof SignatureError ? e.code : String(e)));

describe('verifyArtifact', () => {
  it('accepts the signed artifact and its bytes', async () => {
    const f = await fixture();
    expect(await code(verifyArtifact({ ...f.artifact, signature: f.signature, publicKey: f.publicKey, bytes: f.bytes }))).toBe('ok');
  });
  it('rejects a signature moved to another version or model', async () => {
    const f = await fixture();
    expect(await code(verifyArtifact({ ...f.artifact, version: 4, signature: f.signature, publicKey: f.publicKey }))).toBe('SIGNATURE_INVALID');
    expect(await code(verifyArtifact({ ...f.artifact, model: 'other', signature: f.signature, publicKey: f.publicKey }))).toBe('SIGNATURE_INVALID');
  });
  it('rejects tampered bytes and malformed inputs', async () => {
    const f = await fixture();
    expect(await code(verifyArtifact({ ...f.artifact, signature: f.signature, publicKey: f.publicKey, bytes: new Uint8Array([9]) }))).toBe('DIGEST_MISMATCH');
    expect(await code(verifyArtifact({ ...f.artifact, signature: 'not*base64', publicKey: f.publicKey }))).toBe('SIGNATURE_MALFORMED');
    expect(await code(verifyArtifact({ ...f.artifact, signature: f.signature, publicKey: 'AAAA' }))).toBe('SIGNATURE_MALFORMED');
    expect(await code(verifyArtifact({ ...f.artifact, digest: 'XYZ', signature: f.signature, publicKey: f.publicKey }))).toBe('SIGNATURE_MALFORMED');
  });
  it('rejects a signature from another key', async () => {
    const f = await fixture();
    const other = await fixture();
    expect(await code(verifyArtifact({ ...f.artifact, signature: f.signature, publicKey: other.publicKey }))).toBe('SIGNATURE_INVALID');
  });
});
