/**
 * Top-1 of a Fashion-MNIST classifier (an ONNX file taking datasets/fashion-mnist.ts's images)
 * on a split, run by Tessera on the chosen backend.
 */
import { readFileSync } from 'node:fs';
import { option, parseArgs, positiveInt, UsageError } from '../../cli/args.js';
import { Session } from '../../core/session.js';
import { accuracy, collectLogits } from '../../datasets/evaluate.js';
import { loadFashionMnist, type Split } from '../../datasets/fashion-mnist.js';
import { buildWasm } from '../build-wasm.mjs';

const BACKENDS = ['cpu', 'webgpu', 'reference'] as const;
const SPLITS: readonly Split[] = ['test', 'holdout', 'train'];

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** `MODEL [--backend cpu|webgpu|reference] [--batch N] [--split test|holdout|train]` */
export async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv, { backend: { value: true }, batch: { value: true }, split: { value: true } });
  const [model, ...extra] = args.positional;
  if (!model || extra.length) throw new UsageError('usage: eval-fashion-mnist MODEL.onnx [--backend cpu|webgpu|reference] [--batch N] [--split test|holdout|train]');
  const backend = oneOf(option(args, 'backend') ?? 'cpu', BACKENDS, 'backend');
  const split = oneOf(option(args, 'split') ?? 'test', SPLITS, 'split');
  const batch = positiveInt(option(args, 'batch') ?? '100', 'batch');
  if (backend === 'cpu') buildWasm({ quiet: true });
  const set = loadFashionMnist(split);
  const session = await Session.load(readFileSync(model), { backend, inputDims: { image: [batch, 1, 28, 28] } });
  try {
    const t0 = performance.now();
    const logits = await collectLogits(session, set.images, { batch });
    const seconds = (performance.now() - t0) / 1000;
    const top1 = accuracy(logits, set.labels);
    console.log(`${model} on ${session.report().backend}: ${split} top-1 ${(top1 * 100).toFixed(2)}% (${Math.round(top1 * set.count)}/${set.count}) in ${seconds.toFixed(1)} s, batch ${batch}`);
  } finally {
    session.dispose();
  }
}
