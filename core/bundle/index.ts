/** The Tessera model bundle (docs/bundle-format.md): one file, manifest and aligned tensors, sha256-sealed, optionally signed. */
export { isBundle, FORMAT_VERSION as BUNDLE_FORMAT_VERSION, type BundleSizes } from './format.js';
export { BundleMeta, type BundleManifest, type ModelIdentity, type TensorEntry } from './manifest.js';
export { writeBundle, packModel, tensorsToStore, type PackedBundle, type StoredTensor } from './write.js';
export { readBundle, type BundleContents, type ReadBundleOptions } from './read.js';
export { readBundleStream } from './stream.js';
export { artifactDigest, signBundle, withSignature } from './sign.js';
export type { SignatureOptions, SignedAs } from './signature.js';
