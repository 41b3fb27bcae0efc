import { BundleError } from '../errors.js';
import { HEADER_BYTES, readHeader, SIGNATURE_BYTES } from './format.js';
import { readBundle, type BundleContents, type ReadBundleOptions } from './read.js';

function allocate(bytes: number): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(bytes);
  } catch (cause) {
    throw new BundleError('TOO_LARGE', `cannot allocate ${bytes} bytes for the bundle its header declares`, { cause });
  }
}

/**
 * Reads a bundle from a stream (a `fetch` body) into one buffer, sized from the header as soon as
 * its first 24 bytes arrive, so chunks are copied once, into place, and never concatenated. The
 * tensors of the result are views of that buffer, as with `readBundle`.
 */
export async function readBundleStream(stream: ReadableStream<Uint8Array>, options: ReadBundleOptions = {}): Promise<BundleContents> {
  const reader = stream.getReader();
  const head = new Uint8Array(HEADER_BYTES);
  let buffer: Uint8Array | undefined;
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (!buffer) {
        const take = Math.min(HEADER_BYTES - filled, chunk.byteLength);
        head.set(chunk.subarray(0, take), filled);
        filled += take;
        chunk = chunk.subarray(take);
        if (filled < HEADER_BYTES) continue;
        // Room for a signature trailer too: whether one follows shows only at the end of the stream.
        buffer = allocate(readHeader(head).bundleBytes + SIGNATURE_BYTES);
        buffer.set(head);
      }
      if (filled + chunk.byteLength > buffer.byteLength) {
        throw new BundleError('TRAILING_DATA', `the stream runs past the ${buffer.byteLength - SIGNATURE_BYTES}-byte bundle and a signature`);
      }
      buffer.set(chunk, filled);
      filled += chunk.byteLength;
    }
  } catch (e) {
    await reader.cancel(e).catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
  // A stream that ended inside the header is judged (bad magic, truncated) as the bytes it gave.
  return readBundle((buffer ?? head).subarray(0, filled), options);
}
