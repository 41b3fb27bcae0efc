/**
 * Every way a bundle can be wrong is refused with its own BundleError code, before a Model exists.
 */
import { describe, expect, it } from 'vitest';
import { signedMessage, toBase64Url } from '../sign/message.js';
import { verifyArtifact } from '../sign/verify.js';
import { bundleCode, chunkedStream, ifModelOnnx, keyPair, kitchenSinkModel, META, resealed } from '../../tests/support/bundle-fixtures.js';
import { denseReluModel } from '../../tests/support/onnx-builder.js';
import { sha256Hex } from '../sign/digest.js';
import { dataStart, DIGEST_BYTES, HEADER_BYTES, readHeader, SIGNATURE_BYTES } from './format.js';
import { readBundle, readBundleStream, signBundle, withSignature, writeBundle, type ReadBundleOptions } from './index.js';

const bundle = () => writeBundle(kitchenSinkModel(), META);
const read = (bytes: Uint8Array, options?: ReadBundleOptions) => bundleCode(readBundle(bytes, options));

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x20;
  return copy;
}

function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

describe('header', () => {
  it('not a bundle → BAD_MAGIC', async () => {
    expect(await read(denseReluModel())).toBe('BAD_MAGIC');
    expect(await read(new TextEncoder().encode('TESSERAX and then some more bytes'))).toBe('BAD_MAGIC');
  });

  it('another format version → UNSUPPORTED_VERSION', async () => {
    const bytes = await bundle();
    expect(await read(withU32(bytes, 8, 2))).toBe('UNSUPPORTED_VERSION');
    expect(await read(withU32(bytes, 8, 0))).toBe('UNSUPPORTED_VERSION');
  });

  it('lengths that cannot hold a manifest and digest → HEADER_INVALID; an absurd length → TOO_LARGE', async () => {
    const bytes = await bundle();
    expect(await read(withU32(bytes, 12, bytes.byteLength))).toBe('HEADER_INVALID');
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(16, 1n << 60n, true);
    expect(await read(huge)).toBe('TOO_LARGE');
    expect(await bundleCode(readBundleStream(chunkedStream(huge)))).toBe('TOO_LARGE');
  });
});

describe('length', () => {
  it('cut anywhere → TRUNCATED: header, manifest, tensors, digest, signature', async () => {
    const bytes = await bundle();
    const header = readHeader(bytes);
    const start = dataStart(header.manifestBytes);
    const cuts = [0, 3, 8, HEADER_BYTES - 1, HEADER_BYTES + 5, start - 1, start + 10, bytes.byteLength - DIGEST_BYTES, bytes.byteLength - 1];
    for (const cut of cuts) {
      expect(await read(bytes.subarray(0, cut)), `cut at ${cut}`).toBe('TRUNCATED');
      expect(await bundleCode(readBundleStream(chunkedStream(bytes.subarray(0, cut)))), `stream cut at ${cut}`).toBe('TRUNCATED');
    }
    const keys = await keyPair();
    const signed = withSignature(bytes, await signBundle(bytes, keys.privateKey));
    expect(await read(signed.subarray(0, signed.byteLength - 10))).toBe('TRUNCATED');
  });

  it('bytes after the digest that are not a signature → TRAILING_DATA', async () => {
    const bytes = await bundle();
    const longer = new Uint8Array(bytes.byteLength + SIGNATURE_BYTES + 1);
    longer.set(bytes);
    expect(await read(longer)).toBe('TRAILING_DATA');
    expect(await bundleCode(readBundleStream(chunkedStream(longer)))).toBe('TRAILING_DATA');
  });
});

describe('digests', () => {
  it('a byte changed in a tensor → TENSOR_DIGEST_MISMATCH naming it', async () => {
    const bytes = await bundle();
    const { manifest } = await readBundle(bytes);
    const w = manifest.tensors.find((t) => t.name === 'wscale')!;
    const at = dataStart(readHeader(bytes).manifestBytes) + w.offset + 5;
    await expect(readBundle(flipped(bytes, at))).rejects.toThrow(/tensor "wscale" does not match its sha256/);
    expect(await read(flipped(bytes, at))).toBe('TENSOR_DIGEST_MISMATCH');
  });

  it('a byte changed in the manifest, the padding or the digest itself → FILE_DIGEST_MISMATCH', async () => {
    const bytes = await bundle();
    const header = readHeader(bytes);
    for (const at of [HEADER_BYTES + 1, HEADER_BYTES + Math.floor(header.manifestBytes / 2), dataStart(header.manifestBytes) - 1, bytes.byteLength - 1]) {
      expect(await read(flipped(bytes, at)), `byte ${at}`).toBe('FILE_DIGEST_MISMATCH');
    }
  });

  it('a manifest whose tensor digest is wrong, sealed with a right file digest → TENSOR_DIGEST_MISMATCH', async () => {
    const bytes = await bundle();
    const { manifest } = await readBundle(bytes);
    const lie = await resealed(bytes, (json) => json.replace(manifest.tensors[0]!.sha256, '0'.repeat(64)));
    expect(await read(lie)).toBe('TENSOR_DIGEST_MISMATCH');
  });
});

describe('manifest (sealed with a correct digest, so only the manifest is at fault)', () => {
  it('the resealing itself leaves a readable bundle', async () => {
    const bytes = await bundle();
    expect(await read(await resealed(bytes, (json) => json))).toBe('ok');
  });

  const cases: [string, (json: string) => string, RegExp][] = [
    ['not JSON', () => '{"format": 1,', /JSON/],
    ['an unknown dtype', (json) => json.replace('"dtype":"int32"', '"dtype":"float64"'), /dtype/],
    ['an unknown key', (json) => json.replace('"opset":', '"extra":1,"opset":'), /extra/],
    ['a format number unlike the header', (json) => json.replace('"format":1', '"format":2'), /format/],
    ['a length that does not fit the dims', (json) => json.replace(/"length":24\b/, '"length":20'), /has 20 bytes/],
    ['an unaligned offset', (json) => json.replace(/"offset":64\b/, '"offset":60'), /not a multiple of 64/],
    ['a tensor past the data section', (json) => json.replace(/"offset":64\b/, '"offset":6400000'), /runs past the data section/],
    ['a reference to a tensor that is not in the table', (json) => json.replace('"value":{"tensor":6}', '"value":{"tensor":99}'), /tensor 99/],
  ];
  for (const [what, edit, message] of cases) {
    it(`${what} → MANIFEST_INVALID`, async () => {
      const bad = await resealed(await bundle(), edit);
      await expect(readBundle(bad)).rejects.toThrow(message);
      expect(await read(bad)).toBe('MANIFEST_INVALID');
    });
  }

  it('a manifest stored without deflate → MANIFEST_INVALID', async () => {
    expect(await read(await resealed(await bundle(), (json) => json, true))).toBe('MANIFEST_INVALID');
  });
});

describe('signatures', () => {
  it('a signature in the trailer or passed apart verifies; without a key it is carried, not checked', async () => {
    const keys = await keyPair();
    const bytes = await bundle();
    const signature = await signBundle(bytes, keys.privateKey);
    const signed = withSignature(bytes, signature);
    expect((await readBundle(signed, { publicKey: keys.publicKey, requireSignature: true })).verified).toBe(true);
    expect((await readBundle(bytes, { publicKey: keys.publicKey, signature, requireSignature: true })).verified).toBe(true);
    const unchecked = await readBundle(signed);
    expect([unchecked.verified, unchecked.embeddedSignature]).toEqual([false, signature]);
    expect(unchecked.sizes.signature).toBe(SIGNATURE_BYTES);
  });

  it('is the control plane\'s artifact signature: verifyArtifact accepts it over the file\'s sha256, and a registry signature loads', async () => {
    const keys = await keyPair();
    const bytes = await bundle();
    const digest = await sha256Hex(bytes);
    await verifyArtifact({ model: META.model.id, version: META.model.version, digest, signature: await signBundle(bytes, keys.privateKey), publicKey: keys.publicKey, bytes });
    // What the registry signs on publish: its own name and version number for the uploaded bytes.
    const registry = { model: 'kws', version: 12 };
    const registrySignature = toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keys.privateKey, signedMessage({ ...registry, digest }))));
    const options = { publicKey: keys.publicKey, signature: registrySignature, requireSignature: true };
    expect((await readBundle(bytes, { ...options, signedAs: registry })).verified).toBe(true);
    expect(await read(bytes, options)).toBe('SIGNATURE_INVALID');
  });

  it('required but absent, or required without a key → SIGNATURE_REQUIRED', async () => {
    const keys = await keyPair();
    const bytes = await bundle();
    expect(await read(bytes, { publicKey: keys.publicKey, requireSignature: true })).toBe('SIGNATURE_REQUIRED');
    const signed = withSignature(bytes, await signBundle(bytes, keys.privateKey));
    expect(await read(signed, { requireSignature: true })).toBe('SIGNATURE_REQUIRED');
  });

  it('another key, another bundle\'s signature, another version → SIGNATURE_INVALID', async () => {
    const keys = await keyPair();
    const other = await keyPair();
    const bytes = await bundle();
    expect(await read(withSignature(bytes, await signBundle(bytes, other.privateKey)), { publicKey: keys.publicKey })).toBe('SIGNATURE_INVALID');
    const otherBundle = await writeBundle(kitchenSinkModel(), { model: { ...META.model, name: 'another name' } });
    const forOther = await signBundle(otherBundle, keys.privateKey);
    expect(await read(otherBundle, { publicKey: keys.publicKey, signature: forOther })).toBe('ok');
    expect(await read(bytes, { publicKey: keys.publicKey, signature: forOther })).toBe('SIGNATURE_INVALID');
    const asV4 = await signBundle(bytes, keys.privateKey, { model: META.model.id, version: 4 });
    expect(await read(bytes, { publicKey: keys.publicKey, signature: asV4 })).toBe('SIGNATURE_INVALID');
  });

  it('garbage for a signature or a key → SIGNATURE_MALFORMED', async () => {
    const keys = await keyPair();
    const bytes = await bundle();
    expect(await read(bytes, { publicKey: keys.publicKey, signature: 'not*base64' })).toBe('SIGNATURE_MALFORMED');
    expect(await read(bytes, { publicKey: 'AAAA', signature: await signBundle(bytes, keys.privateKey) })).toBe('SIGNATURE_MALFORMED');
    expect(() => withSignature(bytes, 'AAAA')).toThrow(/64 bytes/);
  });

  it('a signature trailer that was tampered with → SIGNATURE_INVALID, and the digest checks still come first', async () => {
    const keys = await keyPair();
    const bytes = await bundle();
    const signed = withSignature(bytes, await signBundle(bytes, keys.privateKey));
    expect(await read(flipped(signed, signed.byteLength - 3), { publicKey: keys.publicKey })).toBe('SIGNATURE_INVALID');
    expect(await read(flipped(signed, HEADER_BYTES + 2), { publicKey: keys.publicKey })).toBe('FILE_DIGEST_MISMATCH');
  });

  it('ONNX bytes are checked only against a model and version the caller names', async () => {
    const { loadModel } = await import('../load-model.js');
    const keys = await keyPair();
    const onnx = ifModelOnnx();
    const as = { model: 'if-model', version: 1 };
    const signature = toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keys.privateKey, signedMessage({ ...as, digest: await sha256Hex(onnx) }))));
    expect(await bundleCode(loadModel(onnx, { publicKey: keys.publicKey, signature, signedAs: as, requireSignature: true }))).toBe('ok');
    expect(await bundleCode(loadModel(onnx, { publicKey: keys.publicKey, signature, requireSignature: true }))).toBe('SIGNATURE_REQUIRED');
    expect(await bundleCode(loadModel(onnx, { publicKey: keys.publicKey, signature, signedAs: { ...as, version: 2 } }))).toBe('SIGNATURE_INVALID');
    expect(await bundleCode(loadModel(onnx, { publicKey: keys.publicKey, requireSignature: true }))).toBe('SIGNATURE_REQUIRED');
    expect(await bundleCode(loadModel(kitchenSinkModel(), { publicKey: keys.publicKey, requireSignature: true }))).toBe('SIGNATURE_REQUIRED');
  });
});
