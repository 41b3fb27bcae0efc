import type { OpDef } from '../op.js';

export const normalizationOps: Record<string, OpDef> = {};
