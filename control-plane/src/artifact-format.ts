/**
 * Recognises an artifact from its first bytes, so an upload that is neither a Tessera bundle nor
 * an ONNX model is refused before it is registered.
 *
 * - Tessera bundle: the 8-byte magic `TESSERA\0` then a u32 little-endian format version (>= 1).
 * - ONNX: a serialized protobuf ModelProto has no magic, so we check that the first field is a
 *   well-formed ModelProto field: tag 0x08 (ir_version, varint) as every exporter writes first,
 *   or another ModelProto field tag (2..8 = producer_name .. opset_import, 14 metadata_props,
 *   20 training_info, 25 functions) whose varint / length prefix decodes and fits in the file.
 *   That rejects text, archives and random bytes while leaving full parsing to the client.
 */
export type ArtifactFormat = 'tessera' | 'onnx';

export const HEADER_BYTES = 16;
const MAGIC = [0x54, 0x45, 0x53, 0x53, 0x45, 0x52, 0x41, 0x00]; // "TESSERA\0"

const ONNX_FIELDS: ReadonlyMap<number, number> = new Map([
  // field number -> protobuf wire type
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2],
]);

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && at + i < bytes.length; i++) {
    const b = bytes[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

/**
 * `head` is the first min(HEADER_BYTES, totalSize) bytes. Returns the format, or a reason the
 * bytes are not a supported artifact.
 */
export function sniffFormat(head: Uint8Array, totalSize: number): { format: ArtifactFormat } | { reason: string } {
  if (MAGIC.every((b, i) => head[i] === b)) {
    if (head.length < 12) return { reason: 'Tessera bundle truncated inside its header' };
    const version = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(8, true);
    return version >= 1 ? { format: 'tessera' } : { reason: `Tessera bundle has invalid format version ${version}` };
  }
  const tag = readVarint(head, 0);
  if (!tag) return { reason: 'neither a Tessera bundle (no TESSERA magic) nor a protobuf ONNX model' };
  const field = Math.floor(tag.value / 8);
  const wireType = tag.value % 8;
  if (ONNX_FIELDS.get(field) !== wireType) {
    return { reason: `not a Tessera bundle, and first protobuf field (${field}, wire type ${wireType}) is not an ONNX ModelProto field` };
  }
  const payload = readVarint(head, tag.next);
  if (!payload) return { reason: 'ONNX model truncated in its first field' };
  if (wireType === 2 && payload.next + payload.value > totalSize) {
    return { reason: 'ONNX model first field runs past the end of the file' };
  }
  return { format: 'onnx' };
}
