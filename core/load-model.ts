import { BundleError } from './errors.js';
import type { Model } from './ir/graph.js';
import { isBundle } from './bundle/format.js';
import { readBundle } from './bundle/read.js';
import { checkSignature, type SignatureOptions } from './bundle/signature.js';
import { loadOnnx, type LoadOnnxOptions } from './onnx/load-onnx.js';

export interface LoadModelOptions extends SignatureOptions, LoadOnnxOptions {}

/**
 * A model from what an application holds: a Tessera bundle or ONNX bytes, told apart by the
 * bundle's magic, or a Model already in memory. The caller's signature policy applies to bytes of
 * either format; a Model object has no bytes to vouch for, so requiring a signature refuses it.
 */
export async function loadModel(source: Uint8Array | ArrayBuffer | Model, options: LoadModelOptions = {}): Promise<Model> {
  if ('graph' in source) {
    if (options.requireSignature) throw new BundleError('SIGNATURE_REQUIRED', 'a Model object carries no signature; load the signed bundle bytes instead');
    return source;
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  if (isBundle(bytes)) return (await readBundle(bytes, options)).model;
  await checkSignature(bytes, undefined, undefined, options);
  return loadOnnx(bytes, options);
}
