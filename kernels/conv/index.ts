import type { OpDef } from '../op.js';

export const convOps: Record<string, OpDef> = {};
