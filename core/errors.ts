/**
 * Every failure a caller can act on has its own class and a stable `code`, so applications can
 * branch on the kind of problem without parsing messages.
 */
export class TesseraError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The model file is not a valid model: truncated, corrupt, or structurally inconsistent. */
export class ModelFormatError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FORMAT', message, options);
  }
}

export interface UnsupportedNode {
  readonly opType: string;
  readonly domain: string;
  readonly node: string;
  readonly reason: string;
}

/** The model uses operators (or attribute values) that Tessera cannot run; all of them are listed. */
export class UnsupportedOpError extends TesseraError {
  readonly nodes: readonly UnsupportedNode[];
  constructor(nodes: readonly UnsupportedNode[]) {
    const listed = nodes.map((n) => `${n.opType}${n.domain ? ` (${n.domain})` : ''} at node "${n.node}": ${n.reason}`);
    super('UNSUPPORTED_OP', `model uses ${nodes.length} unsupported node(s):\n  ${listed.join('\n  ')}`);
    this.nodes = nodes;
  }
}

/** The feeds given to `run` do not match the model's inputs. */
export class InputError extends TesseraError {
  constructor(message: string) {
    super('INPUT', message);
  }
}

/** Shapes that cannot be made to agree (at load, during shape inference). */
export class ShapeError extends TesseraError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/** No WebGPU adapter could be found; the message says how to get one. */
export class NoAdapterError extends TesseraError {
  constructor(message: string) {
    super('NO_ADAPTER', message);
  }
}

/** The GPU device was lost or a GPU operation failed validation. */
export class GpuError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GPU', message, options);
  }
}

/** The model needs more memory than the backend may take (a Worker's 128 MB, a wasm module's 4 GB). */
export class MemoryLimitError extends TesseraError {
  constructor(message: string) {
    super('MEMORY_LIMIT', message);
  }
}

/** The CPU kernels' WebAssembly module could not be found, compiled or run. */
export class CpuKernelError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CPU_KERNELS', message, options);
  }
}

/** The session was used after `dispose()`. */
export class DisposedError extends TesseraError {
  constructor() {
    super('DISPOSED', 'session has been disposed');
  }
}

export type BundleErrorCode =
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'HEADER_INVALID'
  | 'TRUNCATED'
  | 'TRAILING_DATA'
  | 'TOO_LARGE'
  | 'MANIFEST_INVALID'
  | 'TENSOR_DIGEST_MISMATCH'
  | 'FILE_DIGEST_MISMATCH'
  | 'SIGNATURE_REQUIRED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_UNSUPPORTED';

/**
 * A Tessera bundle that is not one, is damaged, or is not vouched for by the signature the caller
 * asked for. Raised before any part of the model is handed out, so no kernel ever runs on it.
 */
export class BundleError extends TesseraError {
  declare readonly code: BundleErrorCode;
  constructor(code: BundleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
