import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../src/artifact-format.js';
import { clientBucket, invalidWeights, pickVersion } from '../src/rollout.js';

describe('format sniffing', () => {
  const tessera = (version: number) => {
    const b = new Uint8Array(16);
    b.set(new TextEncoder().encode('TESSERA\0'));
    new DataView(b.buffer).setUint32(8, version, true);
    return b;
  };
  it('recognises Tessera bundles and checks their version', () => {
    expect(sniffFormat(tessera(1), 1000)).toEqual({ format: 'tessera' });
    expect(sniffFormat(tessera(0), 1000)).toHaveProperty('reason');
  });
  it('recognises ONNX ModelProto openings and rejects other bytes', () => {
    expect(sniffFormat(new Uint8Array([0x08, 0x07, 0x12, 0x02]), 100)).toEqual({ format: 'onnx' });
    expect(sniffFormat(new Uint8Array([0x3a, 0x05, 1, 2, 3]), 7)).toEqual({ format: 'onnx' }); // graph first
    expect(sniffFormat(new Uint8Array([0x3a, 0x7f, 1]), 10)).toHaveProperty('reason'); // graph longer than the file
    expect(sniffFormat(new TextEncoder().encode('PK\x03\x04'), 100)).toHaveProperty('reason');
    expect(sniffFormat(new Uint8Array([0x08, 0xff]), 2)).toHaveProperty('reason'); // varint never ends
  });
});

describe('weighted sticky assignment', () => {
  it('validates that weights split all traffic', () => {
    expect(invalidWeights([{ version: 3, weight: 95 }, { version: 4, weight: 5 }])).toBeUndefined();
    expect(invalidWeights([{ version: 3, weight: 99.5 }, { version: 4, weight: 0.5 }])).toBeUndefined();
    expect(invalidWeights([{ version: 3, weight: 95 }])).toMatch(/sum/);
    expect(invalidWeights([{ version: 3, weight: 100 }, { version: 4, weight: 0 }])).toMatch(/> 0/);
    expect(invalidWeights([])).toBeDefined();
  });
  it('keeps canary clients on the canary when its share grows', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `c${i}`);
    const buckets = await Promise.all(ids.map((id) => clientBucket('m', id)));
    const at5 = buckets.map((b) => pickVersion([{ version: 3, weight: 95 }, { version: 4, weight: 5 }], b));
    const at20 = buckets.map((b) => pickVersion([{ version: 3, weight: 80 }, { version: 4, weight: 20 }], b));
    at5.forEach((v, i) => v === 4 && expect(at20[i]).toBe(4));
    expect(at20.filter((v) => v === 4).length).toBeGreaterThan(at5.filter((v) => v === 4).length);
  });
  it('hashes model and client together', async () => {
    expect(await clientBucket('a', 'x')).toBe(await clientBucket('a', 'x'));
    const differ = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await clientBucket('a', `k${i}`)) !== (await clientBucket('b', `k${i}`))));
    expect(differ.filter(Boolean).length).toBeGreaterThan(15);
  });
});
