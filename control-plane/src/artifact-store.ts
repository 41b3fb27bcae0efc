import { toHex } from '../../core/sign/message.js';
import { ApiError } from './errors.js';
import { HEADER_BYTES, sniffFormat, type ArtifactFormat } from './artifact-format.js';

export const artifactKey = (digest: string) => `sha256/${digest}`;

/**
 * Streams an upload into R2 under its content address while checking length, format header and
 * sha256 on the way through; the body is never buffered whole.
 *
 * Nothing half-written can become visible: R2 is given the declared sha256 and refuses to commit
 * an object whose bytes hash differently, and a bad header or length errors the stream, which
 * aborts the put. Our own digest (DigestStream) tells a digest mismatch apart from other failures.
 */
export async function storeArtifact(
  bucket: R2Bucket,
  body: ReadableStream<Uint8Array>,
  size: number,
  digest: string,
): Promise<ArtifactFormat> {
  const hasher = new crypto.DigestStream('SHA-256');
  const hashWriter = hasher.getWriter();
  let head = new Uint8Array(0);
  let seen = 0;
  let format: ArtifactFormat | undefined;
  let failure: ApiError | undefined;
  let complete = false;

  const fail = (controller: TransformStreamDefaultController<Uint8Array>, error: ApiError) => {
    failure = error;
    controller.error(error);
  };
  const checkHead = (controller: TransformStreamDefaultController<Uint8Array>) => {
    const sniffed = sniffFormat(head, size);
    if ('reason' in sniffed) fail(controller, new ApiError(422, 'bad_format', sniffed.reason));
    else format = sniffed.format;
  };

  const inspect = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > size) return fail(controller, new ApiError(400, 'length_mismatch', `body is longer than Content-Length ${size}`));
      if (!format && head.length < HEADER_BYTES) {
        const merged = new Uint8Array(Math.min(HEADER_BYTES, head.length + chunk.byteLength));
        merged.set(head);
        merged.set(chunk.subarray(0, merged.length - head.length), head.length);
        head = merged;
        if (head.length === Math.min(HEADER_BYTES, size)) {
          checkHead(controller);
          if (failure) return;
        }
      }
      await hashWriter.write(chunk);
      controller.enqueue(chunk);
    },
    async flush(controller) {
      if (seen < size) return fail(controller, new ApiError(400, 'truncated_upload', `body ended after ${seen} of ${size} bytes`));
      if (!format) checkHead(controller);
      if (failure) return;
      await hashWriter.close();
      complete = true;
    },
  });

  const fixed = new FixedLengthStream(size);
  const piping = body.pipeThrough(inspect).pipeTo(fixed.writable).catch(() => undefined);
  try {
    await bucket.put(artifactKey(digest), fixed.readable, {
      sha256: digest,
      httpMetadata: { contentType: 'application/octet-stream' },
    });
  } catch (cause) {
    await piping;
    if (failure) throw failure;
    if (complete && (await actualDigest(hasher)) !== digest) throw digestMismatch(digest, await actualDigest(hasher));
    if (!complete) throw new ApiError(400, 'truncated_upload', 'upload stream ended early');
    throw cause;
  }
  await piping;
  return format!;
}

async function actualDigest(hasher: DigestStream): Promise<string> {
  return toHex(new Uint8Array(await hasher.digest));
}

const digestMismatch = (declared: string, actual: string) =>
  new ApiError(422, 'digest_mismatch', `body sha256 is ${actual}, x-content-sha256 declared ${declared}`);
