import { toHex } from '../../core/sign/message.js';
import { ApiError } from './errors.js';
import { HEADER_BYTES, sniffFormat, type ArtifactFormat } from './artifact-format.js';

export const artifactKey = (digest: string) => `sha256/${digest}`;

/**
 * Streams an upload into R2 under its content address while checking length, format header and
 * sha256 on the way through; the body is never buffered whole.
 *
 * Nothing half-written can become visible: R2 is given the declared sha256 and refuses to commit
 * an object whose bytes hash differently, and a bad header or length aborts the stream feeding
 * the put. Our own digest (DigestStream) tells a digest mismatch apart from other put failures.
 */
export async function storeArtifact(
  bucket: R2Bucket,
  body: ReadableStream<Uint8Array>,
  size: number,
  digest: string,
): Promise<ArtifactFormat> {
  const hasher = new crypto.DigestStream('SHA-256');
  const hashWriter = hasher.getWriter();
  const fixed = new FixedLengthStream(size);
  const writer = fixed.writable.getWriter();
  // Settles to the put's error (or null) so it can be awaited after the copy loop either way.
  const putting = bucket.put(artifactKey(digest), fixed.readable, { sha256: digest, httpMetadata: { contentType: 'application/octet-stream' } }).then(
    () => null,
    (error: unknown) => error ?? new Error('R2 put failed'),
  );

  let format: ArtifactFormat | undefined;
  const checkHead = (head: Uint8Array) => {
    const sniffed = sniffFormat(head, size);
    if ('reason' in sniffed) throw new ApiError(422, 'bad_format', sniffed.reason);
    format = sniffed.format;
  };

  const reader = body.getReader();
  let head = new Uint8Array(0);
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += value.byteLength;
      if (seen > size) throw new ApiError(400, 'length_mismatch', `body is longer than Content-Length ${size}`);
      if (!format) {
        const merged = new Uint8Array(Math.min(HEADER_BYTES, head.length + value.byteLength));
        merged.set(head);
        merged.set(value.subarray(0, merged.length - head.length), head.length);
        head = merged;
        if (head.length === Math.min(HEADER_BYTES, size)) checkHead(head);
      }
      await hashWriter.write(value);
      await writer.write(value);
    }
    if (seen < size) throw new ApiError(400, 'truncated_upload', `body ended after ${seen} of ${size} bytes`);
    if (!format) checkHead(head);
    await hashWriter.close();
    await writer.close();
  } catch (error) {
    // Aborting the writer makes the put fail, so nothing is committed under the digest.
    await writer.abort('upload rejected').catch(() => undefined);
    await putting;
    throw error instanceof ApiError ? error : new ApiError(400, 'truncated_upload', 'upload stream ended early');
  }

  const putError = await putting;
  if (putError) {
    const actual = toHex(new Uint8Array(await hasher.digest));
    if (actual !== digest) throw new ApiError(422, 'digest_mismatch', `body sha256 is ${actual}, x-content-sha256 declared ${digest}`);
    throw putError;
  }
  return format!;
}
