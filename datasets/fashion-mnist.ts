/**
 * Fashion-MNIST as Debian's `dataset-fashion-mnist` installs it, in the form the project's models
 * take: images as float32 [count, 1, 28, 28] (NCHW, row-major, one channel) holding pixel / 255,
 * so 0 is the black background and 1 full intensity — no inversion, no mean/std standardization.
 * The exported ONNX models take exactly these values; the quantize and eval tools feed them as they
 * come from here.
 *
 * Splits: 'train' is the first 55,000 images of the 60k training file, 'holdout' its last 5,000
 * (calibration for quantization, validation for fine-tunes: never the test set), 'test' the 10k
 * test file.
 */
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';
import { readIdxFile, type IdxArray } from './idx.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const HOLDOUT_SIZE = 5000;
export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export type Split = 'train' | 'holdout' | 'test';

export interface ImageSet {
  readonly count: number;
  /** [count, 1, 28, 28] float32 in [0, 1]. */
  readonly images: Float32Array;
  /** Class index 0..9 per image. */
  readonly labels: Uint8Array;
}

export interface LoadOptions {
  /** Where the four `.gz` IDX files are; Debian's location by default. */
  readonly dir?: string;
}

function readChecked(path: string, rank: number): IdxArray {
  let idx: IdxArray;
  try {
    idx = readIdxFile(path);
  } catch (e) {
    if (e instanceof DatasetNotFoundError) {
      throw new DatasetNotFoundError(`${e.message}: install Debian's dataset-fashion-mnist (scripts/install-system-deps.sh)`, { cause: e });
    }
    throw e;
  }
  if (idx.dims.length !== rank) throw new DatasetFormatError(`${path}: expected a rank-${rank} IDX array, got dims [${idx.dims.join(', ')}]`);
  return idx;
}

/** Images and labels of one IDX file pair, checked against each other. */
function readPair(dir: string, prefix: 'train' | 't10k'): ImageSet {
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const images = readChecked(imagesPath, 3);
  const labels = readChecked(labelsPath, 1);
  const [count, h, w] = images.dims as [number, number, number];
  if (h !== IMAGE_SIZE || w !== IMAGE_SIZE) throw new DatasetFormatError(`${imagesPath}: images are ${h}x${w}, Fashion-MNIST's are ${IMAGE_SIZE}x${IMAGE_SIZE}`);
  if (labels.dims[0] !== count) throw new DatasetFormatError(`${labelsPath} holds ${labels.dims[0]} labels for the ${count} images of ${imagesPath}`);
  const bad = labels.data.findIndex((l) => l >= CLASS_NAMES.length);
  if (bad >= 0) throw new DatasetFormatError(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is not a class index 0..9`);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
  return { count, images: pixels, labels: labels.data };
}

/** Images [start, end) of a set, sharing its memory. */
export function slice(set: ImageSet, start: number, end: number): ImageSet {
  return { count: end - start, images: set.images.subarray(start * PIXELS, end * PIXELS), labels: set.labels.subarray(start, end) };
}

const cache = new Map<string, ImageSet>();

function pair(dir: string, prefix: 'train' | 't10k'): ImageSet {
  const key = join(dir, prefix);
  let set = cache.get(key);
  if (!set) {
    set = readPair(dir, prefix);
    cache.set(key, set);
  }
  return set;
}

/**
 * One split (see the module comment). Files are read once per process; the sets returned share
 * that memory, so callers must not write into them.
 */
export function loadFashionMnist(split: Split, options: LoadOptions = {}): ImageSet {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  if (split === 'test') return pair(dir, 't10k');
  const train = pair(dir, 'train');
  if (train.count <= HOLDOUT_SIZE) throw new DatasetFormatError(`${dir}: the training file holds ${train.count} images, fewer than the ${HOLDOUT_SIZE} held out`);
  const cut = train.count - HOLDOUT_SIZE;
  return split === 'train' ? slice(train, 0, cut) : slice(train, cut, train.count);
}
