import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../onnx/load-onnx.js';
import { chunkedStream, ifModelOnnx, keyPair, kitchenSinkModel, manifestText, META, tensorsOf } from '../../tests/support/bundle-fixtures.js';
import { ALIGNMENT, dataStart, DIGEST_BYTES, HEADER_BYTES, readHeader, SIGNATURE_BYTES } from './format.js';
import { packModel, readBundle, readBundleStream, signBundle, withSignature, writeBundle } from './index.js';
import { sha256Hex } from '../sign/digest.js';

describe('bundle round trip', () => {
  it('gives back the model it was given: every attribute kind, dtype, nested If, com.tessera node', async () => {
    const model = kitchenSinkModel();
    const bytes = await writeBundle(model, META);
    const back = await readBundle(bytes);
    expect(back.model).toEqual(model);
    expect(Number.isNaN(back.model.graph.nodes[1]!.attrs.nan)).toBe(true);
    expect(back.model.graph.nodes.find((n) => n.opType === 'QMatMul')!.domain).toBe('com.tessera');
    expect(back.manifest.model).toEqual(META.model);
    expect(back.verified).toBe(false);
    expect(back.embeddedSignature).toBeUndefined();
  });

  it('gives back what the ONNX importer read, If branches and their initializers included', async () => {
    const model = loadOnnx(ifModelOnnx());
    expect((await readBundle(await writeBundle(model, META))).model).toEqual(model);
  });

  it('lays out the file as documented: header, manifest, 64-byte-aligned tensors, sealing digest', async () => {
    const model = kitchenSinkModel();
    const { bytes, manifest, sizes } = await packModel(model, { ...META, layouts: { mask: 'bitmask' }, metrics: { accuracy: 0.98 }, compression: { quantize: 'int8' } });
    const header = readHeader(bytes);
    expect(header.bundleBytes).toBe(bytes.byteLength);
    expect(JSON.parse(await manifestText(bytes))).toEqual(manifest);
    const start = dataStart(header.manifestBytes);
    expect(start % ALIGNMENT).toBe(0);
    // One shared tensor object is stored once; the rest each have an entry.
    const names = manifest.tensors.map((t) => t.name);
    expect(names).toEqual(['W', 'wscale', 'mask', 'shape', 'shared', 'empty', 'const.value', 'then_w', 'inner_w', 'else_const.value']);
    for (const t of manifest.tensors) {
      expect(t.offset % ALIGNMENT, t.name).toBe(0);
      expect(t.sha256).toBe(await sha256Hex(bytes.subarray(start + t.offset, start + t.offset + t.length)));
    }
    const layout = Object.fromEntries(manifest.tensors.map((t) => [t.name, t.layout]));
    expect(layout).toMatchObject({ W: 'int8x4-rows', wscale: 'dense', mask: 'bitmask', shape: 'dense' });
    expect(manifest.tensors.find((t) => t.name === 'shape')).toMatchObject({ dtype: 'int64', dims: [2], length: 8 });
    expect(manifest.tensors.find((t) => t.name === 'mask')).toMatchObject({ dtype: 'bool', length: 4 });
    expect(manifest).toMatchObject({ metrics: { accuracy: 0.98 }, compression: { quantize: 'int8' }, opset: 17, producer: 'tessera-tests' });
    expect(await sha256Hex(bytes.subarray(0, bytes.byteLength - DIGEST_BYTES))).toBe((await readBundle(bytes)).fileDigest);
    expect(sizes.header + sizes.manifest + sizes.tensors + sizes.padding + sizes.digest).toBe(bytes.byteLength);
    expect(sizes).toMatchObject({ header: HEADER_BYTES, manifest: header.manifestBytes, signature: 0 });
  });

  it('is deterministic: the same model and metadata give the same bytes', async () => {
    const a = await writeBundle(kitchenSinkModel(), META);
    const b = await writeBundle(kitchenSinkModel(), META);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('tensors are views of the bundle bytes', () => {
  it('every tensor, sub-graph and attribute ones included, shares the input buffer', async () => {
    const bytes = await writeBundle(kitchenSinkModel(), META);
    const { model } = await readBundle(bytes);
    const tensors = tensorsOf(model);
    // Both branches of the nested If hold the same initializer: counted twice here, stored once.
    expect(tensors.length).toBe(12);
    for (const t of tensors) expect(t.data.buffer).toBe(bytes.buffer);
    // Reading an ArrayBuffer works the same way.
    for (const t of tensorsOf((await readBundle(bytes.buffer)).model)) expect(t.data.buffer).toBe(bytes.buffer);
  });

  it('a caller array that starts off a 4-byte boundary still reads right: its 32-bit tensors are copied', async () => {
    const model = kitchenSinkModel();
    const bytes = await writeBundle(model, META);
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const { model: back } = await readBundle(shifted.subarray(1));
    expect(back).toEqual(model);
    for (const t of tensorsOf(back)) expect(t.data.buffer === shifted.buffer).toBe(t.dtype === 'bool');
  });
});

describe('readBundleStream', () => {
  it('reads a chunked stream into one buffer sized from the header, equal to the whole read', async () => {
    const bytes = await writeBundle(kitchenSinkModel(), META);
    const whole = await readBundle(bytes);
    const streamed = await readBundleStream(chunkedStream(bytes));
    expect(streamed.model).toEqual(whole.model);
    expect(streamed.manifest).toEqual(whole.manifest);
    expect(streamed.fileDigest).toBe(whole.fileDigest);
    const buffers = new Set(tensorsOf(streamed.model).map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
    // The one buffer is the bundle plus room for a signature, not a concatenation of chunks.
    expect([...buffers][0]!.byteLength).toBe(bytes.byteLength + SIGNATURE_BYTES);
  });

  it('reads a signed bundle the same way, and one arriving in a single chunk', async () => {
    const keys = await keyPair();
    const plain = await writeBundle(kitchenSinkModel(), META);
    const signed = withSignature(plain, await signBundle(plain, keys.privateKey));
    const streamed = await readBundleStream(chunkedStream(signed), { publicKey: keys.publicKey, requireSignature: true });
    expect(streamed.verified).toBe(true);
    const single = await readBundleStream(chunkedStream(signed, [signed.byteLength]), { publicKey: keys.publicKey });
    expect(single.model).toEqual(streamed.model);
  });
});
