/**
 * `npm run bench` / `npm run bench:smoke`: Tessera against onnxruntime-web on the real models, in one
 * headless Chromium on one SwiftShader adapter, in one run. Absolute times from a software adapter
 * mean little; the ratios within one run are the point.
 *
 *   tsx bench/run.ts [--smoke] [--models id,id] [--engines id,id] [--runs N] [--warmup N]
 *
 * Exits non-zero only when the harness itself fails (no browser, no adapter, page bundle does not
 * build, a model cannot be fetched). An engine that cannot run a model is a result, and is recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openHarness, type Harness } from './browser/harness.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './browser/launch.js';
import type { Engine, MeasureResult, Measured, OutputValues } from './browser/protocol.js';
import { BENCH_MODELS, SMOKE_MODEL_ID, prepareModel, type PreparedModel } from './models.js';
import { ROOT } from '../scripts/fetch-models.js';

interface EngineConfig {
  readonly id: string;
  readonly label: string;
  readonly engine: Engine;
}

const ENGINES: readonly EngineConfig[] = [
  { id: 'tessera-webgpu', label: 'Tessera webgpu', engine: { kind: 'tessera-webgpu' } },
  // ORT-web ships two WebGPU EPs, and which one an app gets depends on its import; both are measured.
  { id: 'ort-webgpu', label: 'ORT-web webgpu (native EP: onnxruntime-web/webgpu)', engine: { kind: 'ort', build: 'ort.webgpu.min.mjs', ep: 'webgpu' } },
  { id: 'ort-webgpu-jsep', label: 'ORT-web webgpu (JSEP: onnxruntime-web)', engine: { kind: 'ort', build: 'ort.min.mjs', ep: 'webgpu' } },
  { id: 'ort-wasm-1t', label: 'ORT-web wasm 1 thread', engine: { kind: 'ort', build: 'ort.wasm.min.mjs', ep: 'wasm', numThreads: 1 } },
  // The server's COOP/COEP headers make the page cross-origin isolated, so ORT may use its own default.
  { id: 'ort-wasm-default', label: 'ORT-web wasm default threads', engine: { kind: 'ort', build: 'ort.wasm.min.mjs', ep: 'wasm' } },
];

/** The CPU engine whose outputs the others are compared with. */
const REFERENCE_ENGINE = 'ort-wasm-1t';

/** Tessera's time is divided by each of these engines' times. */
const RATIO_BASES = ['ort-webgpu', 'ort-webgpu-jsep', 'ort-wasm-1t'];

/** The smoke run keeps CI under a minute: Tessera, the first ORT WebGPU EP, and the reference. */
const SMOKE_ENGINES = ['tessera-webgpu', 'ort-webgpu', REFERENCE_ENGINE];

interface Options {
  readonly engines: readonly EngineConfig[];
  readonly warmup: number;
  readonly runs: number;
  readonly budgetMs: number;
  readonly timeoutMs: number;
}

/**
 * tfjs cannot read ONNX, and none of these packages ships a tfjs graph. The real path (onnx2tf, then
 * tensorflowjs_converter) needs Python TensorFlow, which this toolchain does not have; a hand-made
 * op-by-op port would measure our port, not tfjs.
 */
const TFJS_NA = 'n/a: no tfjs conversion of this model';

type EngineResult =
  | {
      readonly status: 'ok';
      readonly firstMs: number;
      readonly createMs: number;
      readonly firstRunMs: number;
      readonly medianMs: number;
      readonly p90Ms: number;
      readonly runs: number;
      readonly maxAbsDiffVsReference?: number;
      readonly detail: Measured['detail'];
    }
  | { readonly status: 'error'; readonly stage: string; readonly error: string }
  | { readonly status: 'n/a'; readonly reason: string };

interface ModelResult {
  readonly id: string;
  readonly file: string;
  readonly inputs: readonly { readonly name: string; readonly dims: readonly number[] }[];
  readonly engines: Readonly<Record<string, EngineResult>>;
  /** Per RATIO_BASES engine: Tessera's time / that engine's time; absent when either failed. */
  readonly tesseraRatios: Readonly<Record<string, { readonly steady: number; readonly first: number } | undefined>>;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function maxAbsDiff(a: Readonly<Record<string, OutputValues>>, b: Readonly<Record<string, OutputValues>>): number {
  let m = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    if (!y || y.data.length !== x.data.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < x.data.length; i++) m = Math.max(m, Math.abs(x.data[i]! - y.data[i]!));
  }
  return m;
}

function summarize(r: MeasureResult, reference: MeasureResult | undefined): EngineResult {
  if (!r.ok) return { status: 'error', stage: r.stage, error: r.error };
  const sorted = [...r.steadyMs].sort((x, y) => x - y);
  return {
    status: 'ok',
    firstMs: r.createMs + r.firstRunMs,
    createMs: r.createMs,
    firstRunMs: r.firstRunMs,
    medianMs: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    runs: sorted.length,
    maxAbsDiffVsReference: reference?.ok ? maxAbsDiff(r.outputs, reference.outputs) : undefined,
    detail: r.detail,
  };
}

async function benchModel(h: Harness, p: PreparedModel, opts: Options): Promise<ModelResult> {
  const modelUrl = h.serve(`${p.model.id}.onnx`, { path: p.path });
  const inputs = p.inputs.map((i) => ({ name: i.name, dims: i.dims, url: h.serve(`${p.model.id}.${i.name}.f32`, new Uint8Array(i.data.buffer)) }));
  const raw = new Map<string, MeasureResult>();
  // The reference engine goes first so every other engine's outputs can be compared with it.
  const order = [...opts.engines].sort((a, b) => Number(b.id === REFERENCE_ENGINE) - Number(a.id === REFERENCE_ENGINE));
  for (const e of order) {
    const r = await h.measure({ engine: e.engine, modelUrl, inputs, warmup: opts.warmup, runs: opts.runs, budgetMs: opts.budgetMs }, opts.timeoutMs);
    raw.set(e.id, r);
    console.error(`  ${p.model.id} ${e.id}: ${r.ok ? `first ${(r.createMs + r.firstRunMs).toFixed(1)} ms, ${r.steadyMs.length} steady runs` : `${r.stage}: ${r.error}`}`);
  }
  const reference = raw.get(REFERENCE_ENGINE);
  const engines: Record<string, EngineResult> = {};
  for (const e of opts.engines) engines[e.id] = summarize(raw.get(e.id)!, e.id === REFERENCE_ENGINE ? undefined : reference);
  engines.tfjs = { status: 'n/a', reason: TFJS_NA };
  const t = engines['tessera-webgpu']!;
  const tesseraRatios = Object.fromEntries(
    RATIO_BASES.filter((key) => key in engines).map((key) => {
      const o = engines[key]!;
      return [key, t.status === 'ok' && o.status === 'ok' ? { steady: t.medianMs / o.medianMs, first: t.firstMs / o.firstMs } : undefined];
    }),
  );
  return { id: p.model.id, file: p.model.file, inputs: p.inputs.map((i) => ({ name: i.name, dims: i.dims })), engines, tesseraRatios };
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const short = (s: string): string => (s.length > 140 ? `${s.slice(0, 137)}...` : s);

function engineNote(key: string, r: EngineResult & { status: 'ok' }): string {
  if (key.startsWith('tessera')) return `backend ${r.detail.backend}, ${r.detail.dispatchesPerRun} dispatches/run`;
  const build = String(r.detail.wasm);
  if (key.startsWith('ort-wasm')) return `${build}, ${r.detail.numThreads} thread(s), crossOriginIsolated=${r.detail.crossOriginIsolated}`;
  return build;
}

function markdown(meta: { adapter: string; browserVersion: string; warmup: number; runs: number; smoke: boolean }, opts: Options, models: readonly ModelResult[]): string {
  const bases = RATIO_BASES.filter((key) => opts.engines.some((e) => e.id === key));
  const lines = [
    `# Tessera bench${meta.smoke ? ' (smoke)' : ''}`,
    '',
    `Chromium ${meta.browserVersion}, WebGPU adapter: ${meta.adapter}. ${meta.warmup} warm-up run(s), up to ${meta.runs} steady runs per engine.`,
    'First = session creation (incl. load, compile, ORT wasm instantiation) + first run, in a fresh page. Steady = wall time per run (upload inputs, run, read outputs back).',
    "The note names the ORT wasm build each page loaded, which tells which of ORT-web's WebGPU EPs ran.",
    `max|Δ| is against ${REFERENCE_ENGINE}. Engines: ${[...opts.engines.map((e) => `\`${e.id}\` = ${e.label}`), '`tfjs` = TensorFlow.js'].join('; ')}.`,
    '',
    '| model | engine | first (ms): create + run | steady median (ms) | steady p90 (ms) | runs | max\\|Δ\\| | note |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const m of models) {
    for (const [key, r] of Object.entries(m.engines)) {
      if (r.status === 'ok') {
        const diff = r.maxAbsDiffVsReference === undefined ? '' : r.maxAbsDiffVsReference.toExponential(1);
        lines.push(`| ${m.id} | ${key} | ${ms(r.firstMs)} (${ms(r.createMs)} + ${ms(r.firstRunMs)}) | ${ms(r.medianMs)} | ${ms(r.p90Ms)} | ${r.runs} | ${diff} | ${cell(engineNote(key, r))} |`);
      } else {
        const what = r.status === 'error' ? `error (${r.stage}): ${short(r.error)}` : r.reason;
        lines.push(`| ${m.id} | ${key} | ${cell(what)} | | | | | |`);
      }
    }
  }
  lines.push(
    '',
    'Tessera webgpu time / other engine time (below 1: Tessera is faster), steady median and first inference:',
    '',
    `| model | ${bases.map((k) => `steady vs ${k} | first vs ${k}`).join(' | ')} |`,
    `|---|${bases.map(() => '---:|---:').join('|')}|`,
  );
  const f = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(2)}×`);
  for (const m of models) {
    lines.push(`| ${m.id} | ${bases.map((k) => `${f(m.tesseraRatios[k]?.steady)} | ${f(m.tesseraRatios[k]?.first)}`).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The entries of `all` named in a comma-separated flag, in `all`'s order; `fallback` when the flag is absent. */
function pick<T extends { readonly id: string }>(what: string, all: readonly T[], flag: string | undefined, fallback: readonly string[]): T[] {
  const ids = flag?.split(',') ?? fallback;
  const unknown = ids.filter((id) => !all.some((x) => x.id === id));
  if (unknown.length) throw new Error(`unknown ${what}: ${unknown.join(', ')}; known: ${all.map((x) => x.id).join(', ')}`);
  return all.filter((x) => ids.includes(x.id));
}

function count(flag: string | undefined, fallback: number): number {
  const n = Number(flag ?? fallback);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a count, got ${flag}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      models: { type: 'string' },
      engines: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
    },
  });
  const smoke = values.smoke ?? false;
  const models = pick('model', BENCH_MODELS, values.models, smoke ? [SMOKE_MODEL_ID] : BENCH_MODELS.map((m) => m.id));
  const engines = pick('engine', ENGINES, values.engines, smoke ? SMOKE_ENGINES : ENGINES.map((e) => e.id));
  if (!engines.some((e) => e.id === 'tessera-webgpu') || !engines.some((e) => e.id === REFERENCE_ENGINE)) {
    throw new Error(`--engines must include tessera-webgpu and ${REFERENCE_ENGINE} (the subject and the reference)`);
  }
  const opts: Options = {
    engines,
    runs: count(values.runs, smoke ? 3 : 20),
    warmup: count(values.warmup, smoke ? 1 : 3),
    // SwiftShader on two shared cores: cap each engine's steady phase rather than the run count alone.
    budgetMs: smoke ? 5_000 : 20_000,
    timeoutMs: smoke ? 40_000 : 240_000,
  };
  const prepared = models.map(prepareModel);

  const harness = await openHarness();
  const results: ModelResult[] = [];
  try {
    console.error(`Chromium ${harness.browserVersion}, adapter: ${harness.adapter}`);
    for (const p of prepared) results.push(await benchModel(harness, p, opts));
  } finally {
    await harness.close();
  }

  const meta = { adapter: harness.adapter, browserVersion: harness.browserVersion, warmup: opts.warmup, runs: opts.runs, smoke };
  const table = markdown(meta, opts, results);
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const json = { date: new Date().toISOString(), chromium: { path: CHROMIUM_PATH, flags: CHROMIUM_FLAGS }, ...meta, budgetMs: opts.budgetMs, engines, models: results };
  writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(outDir, 'bench.md'), table);
  console.log(table);

  // Every engine failing at the harness stage means the page itself is broken, not an engine.
  const all = results.flatMap((m) => Object.values(m.engines)).filter((r) => r.status !== 'n/a');
  if (all.length && all.every((r) => r.status === 'error' && r.stage === 'harness')) {
    console.error('bench: every measurement failed in the harness');
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench: harness failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
