import type { OpDef } from '../op.js';
import { QConv } from './qconv.js';
import { QMatMul } from './qmatmul.js';

/**
 * The int8 W8A8 ops of domain com.tessera (docs/compressed-formats.md) and the quantization
 * helpers the quantize tool and the tests share with the references.
 */
export const quantOps: Record<string, OpDef> = { QMatMul, QConv };

export {
  QMAX, dynamicScale, maxAbs, packInt8Rows, packedWords, quantizeRowSymmetric, quantizeValue, quantizeWeightsPerChannel,
  roundHalfEven, staticScale, unpackInt8Rows, type ActScale, type QuantizedWeights,
} from './pack.js';
