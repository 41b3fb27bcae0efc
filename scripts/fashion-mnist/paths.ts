import { join } from 'node:path';
import { ROOT } from '../fetch-models.js';

/** Where the Fashion-MNIST models, their reports and compressed bundles live. */
export const MODEL_DIR = join(ROOT, 'models', 'fashion-mnist');
