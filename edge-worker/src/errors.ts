import { BundleError, CpuKernelError, InputError, MemoryLimitError, ModelFormatError, ShapeError, UnsupportedOpError } from '../../core/errors.js';
import { ApiError } from '../../control-plane/src/errors.js';

/**
 * The control plane's error type and wire format, `{ "error": { "code", "message", "detail"? } }`,
 * so a client of both branches on `code` the same way. 4xx: the request is wrong; 5xx: the model
 * cannot be served.
 */
export { ApiError, errorBody } from '../../control-plane/src/errors.js';

/** Tessera's own errors, each to the status that says whose problem it is. */
export function fromTessera(e: unknown): ApiError | undefined {
  if (e instanceof InputError) return new ApiError(422, 'invalid_input', e.message);
  // A feed whose dims bind a symbolic dim the model cannot take fails in shape inference: still the request's fault.
  if (e instanceof ShapeError) return new ApiError(422, 'invalid_input', e.message);
  if (e instanceof MemoryLimitError) return new ApiError(507, 'model_too_large', e.message);
  if (e instanceof UnsupportedOpError) {
    return new ApiError(501, 'unsupported_op', e.message, { nodes: e.nodes.map((n) => ({ opType: n.opType, node: n.node, reason: n.reason })) });
  }
  if (e instanceof ModelFormatError) return new ApiError(500, 'model_format', e.message);
  if (e instanceof BundleError) return new ApiError(500, 'model_bundle', e.message, { reason: e.code });
  if (e instanceof CpuKernelError) return new ApiError(500, 'cpu_kernels', e.message);
  return undefined;
}
