export { SignatureError, importPublicKey, verifyArtifact, type VerifyOptions } from './verify.js';
export { SIGNATURE_DOMAIN, signedMessage, type SignedArtifact } from './message.js';
