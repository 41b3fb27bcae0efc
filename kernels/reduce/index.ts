import type { OpDef } from '../op.js';

export const reduceOps: Record<string, OpDef> = {};
