/** The body of scripts/compress-fashion-mnist.ts (loaded after the WGSL loader hook is registered). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateModel } from '../../core/compress/evaluate.js';
import { loadModel } from '../../core/load-model.js';
import type { Backend } from '../../core/session.js';
import { loadFashionMnist } from '../../datasets/fashion-mnist.js';
import { MODEL_DIR } from './paths.js';
import { buildVariant, imageFeeds, MODELS, VARIANTS, type Variant } from './variants.js';

/** The issue's accuracy budget: top-1 points below fp32 each variant may lose. */
const BUDGET: Readonly<Record<Variant, number | undefined>> = { fp32: undefined, int8: 0.5, int4: 1.5, '2:4+int8': 2.5 };
/** And its size budget against the fp32 ONNX file. */
const SIZE_BUDGET: Readonly<Record<Variant, number | undefined>> = { fp32: undefined, int8: 0.27, int4: 0.15, '2:4+int8': undefined };

interface Row {
  model: string;
  variant: Variant;
  top1: number;
  dropPoints: number;
  cosine?: number;
  bytes: number;
  sizeRatio: number;
  latencyMs: Partial<Record<Backend, number | string>>;
  fineTuned: boolean;
  meets: boolean;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { images: { type: 'string', default: '10000' }, backends: { type: 'string', default: 'cpu,webgpu' } } });
  const images = Number(values.images);
  const backends = values.backends.split(',') as Backend[];
  const test = loadFashionMnist('test');

  const rows: Row[] = [];
  mkdirSync(join(MODEL_DIR, 'out'), { recursive: true });
  for (const model of MODELS) {
    let fp32Top1 = 0;
    let fp32Bytes = 0;
    for (const variant of VARIANTS) {
      const built = await buildVariant(model, variant, { evaluate: true, testImages: images, backends });
      let top1: number;
      let cosine: number | undefined;
      let latencyMs: Row['latencyMs'];
      if (variant === 'fp32') {
        const e = await evaluateModel(await loadModel(built.bytes), {
          backends, batches: imageFeeds(test, images), labels: test.labels, latencyFeeds: imageFeeds(test, 1, 1)[0]!,
        });
        top1 = e.accuracy.top1!;
        latencyMs = e.latencyMs;
        fp32Top1 = top1;
        fp32Bytes = built.bytes.byteLength;
      } else {
        const r = built.report!;
        top1 = r.compressed!.accuracy.top1!;
        cosine = r.compressed!.accuracy.cosine;
        latencyMs = r.compressed!.latencyMs;
        writeFileSync(join(MODEL_DIR, 'out', `${model}-${variant.replace(':', 'x').replace('+', '-')}.tsra`), built.bytes);
      }
      const dropPoints = 100 * (fp32Top1 - top1);
      const sizeRatio = built.bytes.byteLength / fp32Bytes;
      const meets = (BUDGET[variant] === undefined || dropPoints <= BUDGET[variant]!) && (SIZE_BUDGET[variant] === undefined || sizeRatio <= SIZE_BUDGET[variant]!);
      rows.push({ model, variant, top1, dropPoints, cosine, bytes: built.bytes.byteLength, sizeRatio, latencyMs, fineTuned: built.fineTuned, meets });
      console.log(`${model} ${variant}: top-1 ${(100 * top1).toFixed(2)}% (${dropPoints >= 0 ? '-' : '+'}${Math.abs(dropPoints).toFixed(2)} pts), ${built.bytes.byteLength} B (${(100 * sizeRatio).toFixed(1)}%), latency ${JSON.stringify(latencyMs)}`);
    }
  }

  const ms = (v: number | string | undefined): string => (typeof v === 'number' ? v.toFixed(3) : 'n/a');
  const md = [
    `Fashion-MNIST test set (${images} images), batch-1 steady latency in ms on this machine's CPU kernels and WebGPU (SwiftShader); size against the fp32 ONNX file.`,
    '',
    '| model | variant | top-1 | Δ vs fp32 (budget) | logits cosine | size | size vs fp32 (budget) | cpu ms | webgpu ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.variant}${r.fineTuned ? ' (fine-tuned)' : ''} | ${(100 * r.top1).toFixed(2)}% | ${r.variant === 'fp32' ? '' : `${(-r.dropPoints).toFixed(2)} (≥ -${BUDGET[r.variant]})`} | ${r.cosine?.toFixed(4) ?? ''} | ${(r.bytes / 1024).toFixed(1)} KiB | ${r.variant === 'fp32' ? '100%' : `${(100 * r.sizeRatio).toFixed(1)}%${SIZE_BUDGET[r.variant] ? ` (≤ ${100 * SIZE_BUDGET[r.variant]!}%)` : ''}`} | ${ms(r.latencyMs.cpu)} | ${ms(r.latencyMs.webgpu)} |`),
    '',
  ].join('\n');
  writeFileSync(join(MODEL_DIR, 'compression-report.json'), `${JSON.stringify({ images, backends, rows }, null, 2)}\n`);
  writeFileSync(join(MODEL_DIR, 'compression-report.md'), md);
  console.log(`\n${md}`);
  const missed = rows.filter((r) => !r.meets);
  console.log(missed.length ? `budgets missed: ${missed.map((r) => `${r.model} ${r.variant}`).join(', ')}` : 'every variant within its accuracy and size budget');
}
