/**
 * The committed Fashion-MNIST models (scripts/train-fashion-mnist.ts) on the real test images:
 * Tessera's CPU kernels and WebGPU (Dawn on SwiftShader; no adapter fails, never skips) reach the
 * accuracy the training report claims, agree with each other logit for logit, and give the same
 * answer one image at a time as in batches. The IDX reader refuses damaged files with typed errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Session, type SessionOptions } from '../core/session.js';
import { DatasetFormatError, DatasetNotFoundError } from '../datasets/errors.js';
import { accuracy, collectLogits, maxAbsDiff, type Logits } from '../datasets/evaluate.js';
import { FASHION_MNIST_DIR, loadFashionMnist, slice } from '../datasets/fashion-mnist.js';
import { parseIdx, readIdxFile } from '../datasets/idx.js';
import { testDevice } from '../kernels/testing/harness.js';

const MODEL_DIR = new URL('../models/fashion-mnist/', import.meta.url);
const IMAGES = 1000;
/** The report's top-1 is over all 10k test images; the first 1000 may sit a little below it. */
const MARGIN_POINTS = 2;

interface TrainReport {
  readonly models: Readonly<Record<string, { readonly testTop1: { readonly tesseraCpu: number } }>>;
}
const report = JSON.parse(readFileSync(new URL('train-report.json', MODEL_DIR), 'utf8')) as TrainReport;
const test = slice(loadFashionMnist('test'), 0, IMAGES);

async function logitsOn(bytes: Uint8Array, options: SessionOptions, batch: number, images = test.images): Promise<Logits> {
  const session = await Session.load(bytes, { ...options, inputDims: { image: [batch, 1, 28, 28] } });
  try {
    return await collectLogits(session, images, { batch });
  } finally {
    session.dispose();
  }
}

describe.each(['mlp', 'cnn'])('Fashion-MNIST %s', (name) => {
  const bytes = new Uint8Array(readFileSync(new URL(`${name}.onnx`, MODEL_DIR)));
  const claimed = report.models[name]!.testTop1.tesseraCpu;
  let cpu: Logits;

  it(`cpu: top-1 on the first ${IMAGES} test images within ${MARGIN_POINTS} points of the report`, async () => {
    cpu = await logitsOn(bytes, { backend: 'cpu' }, 100);
    expect(accuracy(cpu, test.labels) * 100).toBeGreaterThanOrEqual(claimed - MARGIN_POINTS);
  });

  it('webgpu: the same accuracy, and the cpu logits within 1e-4', async () => {
    const gpu = await logitsOn(bytes, { backend: 'webgpu', device: (await testDevice()).device }, 500);
    expect(accuracy(gpu, test.labels) * 100).toBeGreaterThanOrEqual(claimed - MARGIN_POINTS);
    expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-4);
  });

  it('batch 1 gives the batched logits', async () => {
    const few = slice(test, 0, 8);
    const single = await logitsOn(bytes, { backend: 'cpu' }, 1, few.images);
    expect(maxAbsDiff(single, cpu, few.count)).toBeLessThanOrEqual(1e-5);
  });
});

describe('IDX reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const labelsGz = readFileSync(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const labels = gunzipSync(labelsGz);
  const write = (file: string, bytes: Uint8Array): string => {
    const path = join(dir, file);
    writeFileSync(path, bytes);
    return path;
  };

  it('reads the real labels file: 10000 labels in 0..9', () => {
    const idx = readIdxFile(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
    expect(idx.dims).toEqual([10000]);
    expect(Math.max(...idx.data)).toBe(9);
  });

  it('refuses a truncated gzip stream', () => {
    const path = write('cut.gz', labelsGz.subarray(0, labelsGz.length >> 1));
    expect(() => readIdxFile(path)).toThrow(DatasetFormatError);
    expect(() => readIdxFile(path)).toThrow(/corrupt or truncated gzip/);
  });

  it('refuses IDX data shorter than its dims, or longer', () => {
    const path = write('short.gz', gzipSync(labels.subarray(0, labels.length - 1)));
    expect(() => readIdxFile(path)).toThrow(DatasetFormatError);
    expect(() => readIdxFile(path)).toThrow(/truncated: dims \[10000\] need 10000 bytes of data, the file holds 9999/);
    expect(() => parseIdx(Buffer.concat([labels, Buffer.of(0)]), 'long')).toThrow(/trailing bytes/);
  });

  it('refuses a bad magic, a non-byte element type and a header cut short', () => {
    const corrupt = (at: number, v: number): Uint8Array => Uint8Array.from(labels, (b, i) => (i === at ? v : b));
    expect(() => parseIdx(corrupt(0, 7), 'magic')).toThrow(/bad IDX magic/);
    expect(() => parseIdx(corrupt(2, 0x0d), 'float')).toThrow(/element type 0xd is not unsigned byte/);
    expect(() => parseIdx(labels.subarray(0, 6), 'header')).toThrow(DatasetFormatError);
  });

  it('names the Debian package when the files are missing', () => {
    expect(() => loadFashionMnist('test', { dir: join(dir, 'nowhere') })).toThrow(DatasetNotFoundError);
    expect(() => loadFashionMnist('test', { dir: join(dir, 'nowhere') })).toThrow(/dataset-fashion-mnist/);
  });
});
