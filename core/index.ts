/** Tessera's public API. */
export { Session, type Backend, type SessionOptions, type SessionReport, type NodeReport, type IoInfo } from './session.js';
export { loadOnnx, type LoadOnnxOptions, type ExternalData } from './onnx/load-onnx.js';
export * from './bundle/index.js';
export { tensor, sizeOf, type Tensor, type DType, type TensorData } from './tensor.js';
export * from './errors.js';
export { acquireDevice, type AcquiredDevice } from './gpu/device.js';
export type { CpuKernelSource } from './runtime/cpu/kernel-module.js';
