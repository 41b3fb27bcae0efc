/**
 * Operator domains: ONNX's default one, and Tessera's own for the compressed ops. In a module of
 * their own so the loader and the planner can name them without importing every kernel.
 */
export const TESSERA_DOMAIN = 'com.tessera';

export const isOnnxDomain = (domain: string): boolean => domain === '' || domain === 'ai.onnx';
