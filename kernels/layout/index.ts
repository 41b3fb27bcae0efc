import type { OpDef } from '../op.js';

export const layoutOps: Record<string, OpDef> = {};
