import type { OpDef } from '../op.js';
import { concatSplitOps } from './concat-split.js';
import { gatherOps } from './gather.js';
import { rearrangeOps } from './rearrange.js';
import { resizeOps } from './resize.js';
import { shapeOps } from './shape-ops.js';
import { viewOps } from './views.js';

/**
 * Layout operators: views (aliases, no dispatch), copies through one generic strided kernel
 * (Transpose, DepthToSpace, SpaceToDepth, Slice, Expand, Tile, Pad, Concat, Split, Gather,
 * GatherElements), Resize/Upsample from tap tables, and the shape ops the planner folds at load.
 */
export const layoutOps: Record<string, OpDef> = {
  ...viewOps,
  ...shapeOps,
  ...rearrangeOps,
  ...concatSplitOps,
  ...gatherOps,
  ...resizeOps,
};
