/**
 * zlib-wrapped DEFLATE (RFC 1950) through the Compression Streams API: the manifest is stored
 * compressed, since a model with hundreds of small tensors has a JSON graph and tensor table of a
 * size that would otherwise rival a quantized model's weights. 'deflate' rather than the 6-byte
 * smaller 'deflate-raw', which arrived in Node 21.2 and only in later 20.x releases; 'deflate'
 * works in every Node this package supports, in browsers and in Workers.
 */

async function pump(bytes: Uint8Array, transform: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const source = new ReadableStream<BufferSource>({
    start(controller) {
      // Bundles live in plain ArrayBuffers; the typing of compression streams insists on it.
      controller.enqueue(bytes as Uint8Array<ArrayBuffer>);
      controller.close();
    },
  });
  const reader = source.pipeThrough(transform).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new RangeError(`inflates to more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export const deflate = (bytes: Uint8Array): Promise<Uint8Array> => pump(bytes, new CompressionStream('deflate'), Number.MAX_SAFE_INTEGER);

/** Rejects data that is not zlib DEFLATE, or that inflates past `limit` bytes (a decompression bomb). */
export const inflate = (bytes: Uint8Array, limit: number): Promise<Uint8Array> => pump(bytes, new DecompressionStream('deflate'), limit);
