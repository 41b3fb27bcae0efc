/** The body of bench/compression.ts (loaded after the WGSL loader hook is registered). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFashionMnist } from '../datasets/fashion-mnist.js';
import { buildVariant, MODELS, VARIANTS, type FashionModel, type Variant } from '../scripts/fashion-mnist/variants.js';
import { ROOT } from '../scripts/fetch-models.js';
import { errorMessage, loadOrt, loadTessera, timeEnginesInterleaved, type Feed, type Loaded } from './engines.js';
import { percentile } from './stats.js';

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { smoke: { type: 'boolean', default: false }, runs: { type: 'string' } } });
  const smoke = values.smoke;
  const rounds = Number(values.runs ?? (smoke ? 5 : 150));
  const models: readonly FashionModel[] = smoke ? ['mlp'] : MODELS;

  const image = loadFashionMnist('test').images.subarray(0, 784);
  const feeds: Feed[] = [{ name: 'image', dims: [1, 1, 28, 28], data: image }];

  type Engine = 'tessera-cpu' | 'tessera-webgpu' | 'ort-wasm-1t';
  interface Cell {
    readonly model: FashionModel;
    readonly variant: Variant;
    readonly engine: Engine;
    readonly medianMs?: number;
    /** Spread of the per-round figures: the 25th and 75th percentiles. */
    readonly iqrMs?: readonly [number, number];
    /** One steady figure per interleaved round, in round order (not written to the JSON). */
    readonly rounds?: readonly number[];
    readonly error?: string;
  }
  const ort = await import('onnxruntime-web');
  ort.env.wasm.proxy = false;
  const spec = { warmup: smoke ? 3 : 20, runs: rounds, budgetMs: Infinity };
  const cells: Cell[] = [];
  for (const model of models) {
    // Every engine of a model is loaded first and then timed round by round, each round visiting
    // every engine once (timeEnginesInterleaved): on a shared machine, load drifts over seconds, and
    // interleaving puts the same drift into every column instead of into whichever ran during a busy spell.
    const entries: { variant: Variant; engine: Engine; load: () => Promise<Loaded> }[] = [];
    for (const variant of VARIANTS) {
      const engines: Engine[] = variant === 'fp32' ? ['tessera-cpu', 'tessera-webgpu', 'ort-wasm-1t'] : ['tessera-cpu', 'tessera-webgpu'];
      try {
        const { bytes } = await buildVariant(model, variant);
        for (const engine of engines) {
          entries.push({ variant, engine, load: () => (engine === 'ort-wasm-1t' ? loadOrt(ort, bytes, 'wasm', 1) : loadTessera(bytes, feeds, engine === 'tessera-cpu' ? 'cpu' : 'webgpu')) });
        }
      } catch (e) {
        for (const engine of engines) cells.push({ model, variant, engine, error: errorMessage(e) });
      }
    }
    const results = await timeEnginesInterleaved(entries.map((e) => e.load), feeds, spec);
    for (const [i, { variant, engine }] of entries.entries()) {
      const r = results[i]!;
      if (!r.ok) {
        cells.push({ model, variant, engine, error: r.error });
        continue;
      }
      // Steady samples of the interleaved rounds, one per round (budgetMs: Infinity, so every round runs).
      const sorted = [...r.steadyMs].sort((a, b) => a - b);
      cells.push({ model, variant, engine, medianMs: percentile(sorted, 0.5), iqrMs: [percentile(sorted, 0.25), percentile(sorted, 0.75)], rounds: r.steadyMs });
    }
    console.log(cells.filter((c) => c.model === model).map((c) => `${model} ${c.variant} ${c.engine}: ${c.medianMs?.toFixed(4) ?? c.error} ms`).join('\n'));
  }

  const cell = (model: FashionModel, variant: Variant, engine: Engine): Cell | undefined =>
    cells.find((c) => c.model === model && c.variant === variant && c.engine === engine);
  const at = (model: FashionModel, variant: Variant, engine: Engine): number | undefined => cell(model, variant, engine)?.medianMs;

  interface Target {
    readonly what: string;
    /** The ratio of the two medians: the verdict's figure. */
    readonly ratio?: number;
    /**
     * The same two engines round by round (each round runs both back to back, so drift in the
     * machine's load cancels): 25th and 75th percentiles of the per-round ratios, and the share
     * of rounds at or under the target. How far a verdict can be trusted on a shared machine.
     */
    readonly perRound?: { readonly iqr: readonly [number, number]; readonly meeting: number };
    readonly target: number;
  }
  const compare = (what: string, a: Cell | undefined, b: Cell | undefined, target: number): Target => {
    if (a?.medianMs === undefined || b?.medianMs === undefined) return { what, target };
    const n = Math.min(a.rounds!.length, b.rounds!.length);
    const ratios = a.rounds!.slice(0, n).map((x, i) => x / b.rounds![i]!).sort((p, q) => p - q);
    return {
      what, target, ratio: a.medianMs / b.medianMs,
      perRound: { iqr: [percentile(ratios, 0.25), percentile(ratios, 0.75)], meeting: ratios.filter((r) => r <= target).length / ratios.length },
    };
  };
  const targets: Target[] = [];
  for (const model of models) {
    targets.push(compare(`${model}: int8 cpu ÷ ORT wasm fp32`, cell(model, 'int8', 'tessera-cpu'), cell(model, 'fp32', 'ort-wasm-1t'), model === 'mlp' ? 1 / 4 : 1 / 2));
    targets.push(compare(`${model}: int8 webgpu ÷ fp32 webgpu`, cell(model, 'int8', 'tessera-webgpu'), cell(model, 'fp32', 'tessera-webgpu'), 1));
  }
  for (const backend of ['cpu', 'webgpu'] as const) {
    targets.push(compare(`mlp: 2:4+int8 ÷ int8, ${backend}`, cell('mlp', '2:4+int8', `tessera-${backend}`), cell('mlp', 'int8', `tessera-${backend}`), 1));
  }

  const fmt = (x?: number): string => (x === undefined ? 'n/a' : x < 0.1 ? x.toFixed(4) : x.toFixed(3));
  const md = [
    `Batch-1 steady latency, median ms over ${rounds} interleaved rounds (${smoke ? 'smoke' : 'full'} run), Node ${process.version}; WebGPU is Dawn on this machine's adapter.`,
    '',
    '| model | variant | Tessera cpu | Tessera webgpu | ORT-web wasm 1 thread |',
    '|---|---|---:|---:|---:|',
    ...models.flatMap((m) => VARIANTS.map((v) => `| ${m} | ${v} | ${fmt(at(m, v, 'tessera-cpu'))} | ${fmt(at(m, v, 'tessera-webgpu'))} | ${v === 'fp32' ? fmt(at(m, v, 'ort-wasm-1t')) : ''} |`)),
    '',
    '| ratio | measured (of medians) | per round: p25 – p75 | rounds meeting it | target | |',
    '|---|---:|---:|---:|---:|---|',
    ...targets.map((t) => {
      const spread = t.perRound ? `${fmt(t.perRound.iqr[0])} – ${fmt(t.perRound.iqr[1])} | ${(100 * t.perRound.meeting).toFixed(0)} %` : ' | ';
      return `| ${t.what} | ${fmt(t.ratio)} | ${spread} | ≤ ${fmt(t.target)} | ${t.ratio === undefined ? 'not measured' : t.ratio <= t.target ? 'met' : 'missed'} |`;
    }),
    '',
  ].join('\n');
  const errors = cells.filter((c) => c.error);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = smoke ? 'compression-smoke' : 'compression';
  writeFileSync(join(dir, `${stem}.json`), `${JSON.stringify({ date: new Date().toISOString(), rounds, cells: cells.map(({ rounds: _, ...c }) => c), targets }, null, 2)}\n`);
  writeFileSync(join(dir, `${stem}.md`), md);
  console.log(`\n${md}`);
  if (errors.length) {
    console.error(`failed: ${errors.map((c) => `${c.model} ${c.variant} ${c.engine}: ${c.error}`).join('\n')}`);
    process.exitCode = 1;
  }
}
