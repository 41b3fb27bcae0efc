/**
 * A packed bundle is what the control plane takes for one: its upload check (which sees only the
 * first bytes) recognises it as a Tessera bundle, and refuses it once the version is unknown.
 */
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, sniffFormat } from '../control-plane/src/artifact-format.js';
import { writeBundle } from '../core/bundle/index.js';
import { kitchenSinkModel, META } from './support/bundle-fixtures.js';

describe('bundles and the registry upload check', () => {
  it('recognises a packed bundle by its header', async () => {
    const bytes = await writeBundle(kitchenSinkModel(), META);
    expect(sniffFormat(bytes.subarray(0, HEADER_BYTES), bytes.byteLength)).toEqual({ format: 'tessera' });
    const v0 = bytes.slice(0, HEADER_BYTES);
    v0[8] = 0;
    expect(sniffFormat(v0, bytes.byteLength)).toEqual({ reason: 'Tessera bundle has invalid format version 0' });
  });
});
