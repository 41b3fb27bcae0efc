import type { OpDef } from '../op.js';
import { BatchNormalization } from './batchnorm.js';
import { rowNormOps } from './layernorm.js';
import { softmaxOps } from './softmax.js';

/** Softmax, LogSoftmax, LayerNormalization, InstanceNormalization and BatchNormalization. */
export const normalizationOps: Record<string, OpDef> = { ...softmaxOps, ...rowNormOps, BatchNormalization };
