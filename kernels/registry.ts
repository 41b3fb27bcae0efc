import type { OpDef } from './op.js';
import { convOps } from './conv/index.js';
import { elementwiseOps } from './elementwise/index.js';
import { int4Ops } from './int4/index.js';
import { layoutOps } from './layout/index.js';
import { matmulOps } from './matmul/index.js';
import { normalizationOps } from './normalization/index.js';
import { poolOps } from './pool/index.js';
import { reduceOps } from './reduce/index.js';

/** Every operator Tessera runs, by ONNX op type. Each family folder holds its kernels and tests. */
export const opRegistry: Readonly<Record<string, OpDef>> = {
  ...elementwiseOps,
  ...matmulOps,
  ...convOps,
  ...poolOps,
  ...reduceOps,
  ...normalizationOps,
  ...layoutOps,
  ...int4Ops,
};
