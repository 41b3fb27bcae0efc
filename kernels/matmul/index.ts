import type { OpDef } from '../op.js';

export const matmulOps: Record<string, OpDef> = {};
