import type { OpDef } from '../op.js';

export const poolOps: Record<string, OpDef> = {};
