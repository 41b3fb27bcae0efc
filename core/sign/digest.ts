import { toHex } from './message.js';

/** Workers' streaming digest (not in Node or browsers): a WritableStream whose `digest` settles on close. */
type DigestStreamClass = new (algorithm: string) => WritableStream<ArrayBufferView> & { readonly digest: Promise<ArrayBuffer> };

/** Past this size a Worker hashes through DigestStream, a chunk at a time. */
const STREAM_ABOVE = 256 * 1024;

/**
 * SHA-256 through WebCrypto, present in Node 20, browsers and Workers alike. `subtle.digest`
 * copies its input, so checking a whole bundle would briefly hold it twice: too much for a large
 * model in a 128 MB Worker. Where Workers' DigestStream exists, large inputs go through it 256 KiB
 * at a time instead. The typing wants a view of a plain ArrayBuffer, which is what bundles are read
 * into (browsers refuse shared memory).
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const DigestStream = (crypto as unknown as { DigestStream?: DigestStreamClass }).DigestStream;
  if (DigestStream && bytes.byteLength > STREAM_ABOVE) {
    const stream = new DigestStream('SHA-256');
    const writer = stream.getWriter();
    for (let o = 0; o < bytes.byteLength; o += STREAM_ABOVE) await writer.write(bytes.subarray(o, o + STREAM_ABOVE));
    await writer.close();
    return new Uint8Array(await stream.digest);
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}
