import type { OpDef } from './op.js';
import { blockSparseOps } from './blocksparse/index.js';
import { convOps } from './conv/index.js';
import { elementwiseOps } from './elementwise/index.js';
import { int4Ops } from './int4/index.js';
import { layoutOps } from './layout/index.js';
import { matmulOps } from './matmul/index.js';
import { normalizationOps } from './normalization/index.js';
import { poolOps } from './pool/index.js';
import { quantOps } from './quant/index.js';
import { reduceOps } from './reduce/index.js';
import { sparseOps } from './sparse/index.js';
import { isOnnxDomain, TESSERA_DOMAIN } from '../core/ir/domains.js';

export { isOnnxDomain, TESSERA_DOMAIN };

/** Every ONNX operator Tessera runs, by op type. Each family folder holds its kernels and tests. */
export const opRegistry: Readonly<Record<string, OpDef>> = {
  ...elementwiseOps,
  ...matmulOps,
  ...convOps,
  ...poolOps,
  ...reduceOps,
  ...normalizationOps,
  ...layoutOps,
};

/** The operators of TESSERA_DOMAIN, by op type; kept apart so an ONNX node never resolves to one. */
export const tesseraOps: Readonly<Record<string, OpDef>> = { ...quantOps, ...int4Ops, ...sparseOps, ...blockSparseOps };

/** The op a node of (domain, opType) runs, or undefined when no domain Tessera knows has it. */
export function lookupOp(domain: string, opType: string): OpDef | undefined {
  if (isOnnxDomain(domain)) return opRegistry[opType];
  return domain === TESSERA_DOMAIN ? tesseraOps[opType] : undefined;
}
