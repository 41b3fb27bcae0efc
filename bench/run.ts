/**
 * `npm run bench` / `npm run bench:smoke`: Tessera against onnxruntime-web and TensorFlow.js on the
 * real models, in one run, in three sections: WebGPU (headless Chromium, one SwiftShader adapter),
 * and the CPU (WebAssembly) engines in this Node process and in the same Chromium. Absolute times
 * from a software adapter or two shared cores mean little; the ratios within one run are the point.
 *
 *   tsx bench/run.ts [--smoke] [--sections webgpu,cpu-node,cpu-chromium] [--models id,id]
 *                    [--engines id,id] [--cpu-engines id,id] [--runs N] [--warmup N]
 *
 * Exits non-zero only when the harness itself fails (no browser, no adapter, page bundle does not
 * build, a model cannot be fetched). An engine that cannot run a model is a result, and is recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openHarness, type Harness } from './browser/harness.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './browser/launch.js';
import type { Engine, MeasureResult, MeasureSpec, Measured, OutputValues } from './browser/protocol.js';
import { BENCH_MODELS, SMOKE_MODEL_ID, prepareModel, type PreparedModel } from './models.js';
import { percentile } from './stats.js';
import { buildWasm } from '../scripts/build-wasm.mjs';
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

/** The CPU section: the same engines in Node and in the page; ORT wasm 1 thread is again the reference. */
const CPU_ENGINES: readonly EngineConfig[] = [
  { id: 'tessera-cpu', label: 'Tessera cpu (WebAssembly SIMD128, 1 thread)', engine: { kind: 'tessera-cpu' } },
  { id: REFERENCE_ENGINE, label: 'ORT-web wasm 1 thread (SIMD)', engine: { kind: 'ort', build: 'ort.wasm.min.mjs', ep: 'wasm', numThreads: 1 } },
  { id: 'tfjs-cpu', label: 'TensorFlow.js cpu backend (plain JS)', engine: { kind: 'tfjs', backend: 'cpu' } },
  { id: 'tfjs-wasm', label: 'TensorFlow.js wasm backend (SIMD, 1 thread)', engine: { kind: 'tfjs', backend: 'wasm' } },
];
const CPU_SUBJECT = 'tessera-cpu';
const CPU_RATIO_BASES = [REFERENCE_ENGINE, 'tfjs-cpu', 'tfjs-wasm'];
/** Issue 3's target: Tessera-cpu's steady latency at most 1/1.5 of ORT wasm 1 thread's. */
const CPU_TARGET = 1 / 1.5;
/** Smoke: the subject and the reference only; each tfjs engine would add a page and a bundle. */
const SMOKE_CPU_ENGINES = [CPU_SUBJECT, REFERENCE_ENGINE];

const SECTIONS = ['webgpu', 'cpu-node', 'cpu-chromium'] as const;

interface Timing {
  readonly warmup: number;
  readonly runs: number;
  readonly budgetMs: number;
}

interface Options extends Timing {
  readonly engines: readonly EngineConfig[];
  readonly cpuEngines: readonly EngineConfig[];
  /** CPU runs are short and noisy on shared cores: more of them, within their own budget. */
  readonly cpu: Timing;
  readonly timeoutMs: number;
}

/**
 * The WebGPU section has no tfjs column: tfjs cannot read ONNX, none of these packages ships a tfjs
 * graph, and converting (onnx2tf, then tensorflowjs_converter) needs Python TensorFlow. The CPU
 * section runs tfjs where the graph is plain dense layers (bench/tfjs-onnx.ts).
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
      readonly runsPerSample: number;
      readonly maxAbsDiffVsReference?: number;
      readonly detail: Measured['detail'];
    }
  | { readonly status: 'error'; readonly stage: string; readonly error: string }
  | { readonly status: 'n/a'; readonly reason: string };

type Ratios = Readonly<Record<string, { readonly steady: number; readonly first: number } | undefined>>;

interface ModelResult {
  readonly id: string;
  readonly file: string;
  readonly inputs: readonly { readonly name: string; readonly dims: readonly number[] }[];
  readonly engines: Readonly<Record<string, EngineResult>>;
  /** Per ratio base: Tessera's time / that engine's time; absent when either failed. */
  readonly tesseraRatios: Ratios;
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
  if (!r.ok) return r.stage === 'n/a' ? { status: 'n/a', reason: `n/a: ${r.error}` } : { status: 'error', stage: r.stage, error: r.error };
  const sorted = [...r.steadyMs].sort((x, y) => x - y);
  return {
    status: 'ok',
    firstMs: r.createMs + r.firstRunMs,
    createMs: r.createMs,
    firstRunMs: r.firstRunMs,
    medianMs: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    runs: sorted.length,
    runsPerSample: r.runsPerSample,
    maxAbsDiffVsReference: reference?.ok ? maxAbsDiff(r.outputs, reference.outputs) : undefined,
    detail: r.detail,
  };
}

function ratios(engines: Readonly<Record<string, EngineResult>>, subject: string, bases: readonly string[]): Ratios {
  const t = engines[subject];
  return Object.fromEntries(
    bases.filter((key) => key in engines).map((key) => {
      const o = engines[key]!;
      return [key, t?.status === 'ok' && o.status === 'ok' ? { steady: t.medianMs / o.medianMs, first: t.firstMs / o.firstMs } : undefined];
    }),
  );
}

/** Measures each engine, the reference first so every other engine's outputs can be compared with it. */
type MeasureAll = (order: readonly EngineConfig[]) => Promise<MeasureResult[]>;

/** One engine after another, each measured on its own (a fresh page each). */
const oneAfterAnother =
  (measure: (e: EngineConfig) => Promise<MeasureResult>): MeasureAll =>
  async (order) => {
    const out: MeasureResult[] = [];
    for (const e of order) out.push(await measure(e));
    return out;
  };

async function measureEngines(modelId: string, engines: readonly EngineConfig[], measureAll: MeasureAll): Promise<Record<string, EngineResult>> {
  const order = [...engines].sort((a, b) => Number(b.id === REFERENCE_ENGINE) - Number(a.id === REFERENCE_ENGINE));
  const measured = await measureAll(order);
  const raw = new Map<string, MeasureResult>();
  order.forEach((e, i) => {
    const r = measured[i]!;
    raw.set(e.id, r);
    console.error(`  ${modelId} ${e.id}: ${r.ok ? `first ${(r.createMs + r.firstRunMs).toFixed(1)} ms, ${r.steadyMs.length} steady samples` : `${r.stage}: ${r.error}`}`);
  });
  const reference = raw.get(REFERENCE_ENGINE);
  const summary: Record<string, EngineResult> = {};
  for (const e of engines) summary[e.id] = summarize(raw.get(e.id)!, e.id === REFERENCE_ENGINE ? undefined : reference);
  return summary;
}

function serveModel(h: Harness, p: PreparedModel): { modelUrl: string; inputs: MeasureSpec['inputs'] } {
  const modelUrl = h.serve(`${p.model.id}.onnx`, { path: p.path });
  const inputs = p.inputs.map((i) => ({ name: i.name, dims: i.dims, url: h.serve(`${p.model.id}.${i.name}.f32`, new Uint8Array(i.data.buffer)) }));
  return { modelUrl, inputs };
}

const describeModel = (p: PreparedModel) => ({ id: p.model.id, file: p.model.file, inputs: p.inputs.map((i) => ({ name: i.name, dims: i.dims })) });

async function benchModel(h: Harness, p: PreparedModel, opts: Options): Promise<ModelResult> {
  const served = serveModel(h, p);
  const engines = await measureEngines(p.model.id, opts.engines, oneAfterAnother(async (e) =>
    (await h.measure({ engines: [e.engine], ...served, warmup: opts.warmup, runs: opts.runs, budgetMs: opts.budgetMs }, opts.timeoutMs))[0]!,
  ));
  engines.tfjs = { status: 'n/a', reason: TFJS_NA };
  return { ...describeModel(p), engines, tesseraRatios: ratios(engines, 'tessera-webgpu', RATIO_BASES) };
}

/** The CPU engines on one model, in this process or together in one fresh page; ORT wasm is measured again here, with the CPU section's run counts. */
async function benchCpu(p: PreparedModel, opts: Options, harness: Harness | 'node'): Promise<ModelResult> {
  let measureAll: MeasureAll;
  if (harness === 'node') {
    measureAll = async (order) => (await nodeSection()).measureInNode(order.map((e) => e.engine), p, opts.cpu);
  } else {
    const served = serveModel(harness, p);
    // All CPU engines in one page, interleaved as in Node: one page each, one after another, let a
    // drift of this machine land on one engine (alexa's ratio read 0.98 in one run, 0.76 in the next).
    measureAll = (order) => harness.measure({ engines: order.map((e) => e.engine), ...served, ...opts.cpu }, opts.timeoutMs * order.length);
  }
  const engines = await measureEngines(p.model.id, opts.cpuEngines, measureAll);
  return { ...describeModel(p), engines, tesseraRatios: ratios(engines, CPU_SUBJECT, CPU_RATIO_BASES) };
}

let nodeModule: Promise<typeof import('./cpu-node.js')> | undefined;

/** core imports its WGSL as text; Node learns to load it before the first import of core. */
function nodeSection(): Promise<typeof import('./cpu-node.js')> {
  if (!nodeModule) {
    register('./wgsl-hooks.mjs', import.meta.url);
    nodeModule = import('./cpu-node.js');
  }
  return nodeModule;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const short = (s: string): string => (s.length > 140 ? `${s.slice(0, 137)}...` : s);

function engineNote(key: string, r: EngineResult & { status: 'ok' }): string {
  const d = r.detail;
  if (key.startsWith('tessera')) {
    // The wasm memory tells whether a model fits a Worker's 128 MB.
    if (d.backend === 'cpu') return `backend cpu, ${d.dispatchesPerRun} kernel calls/run, ${(Number(d.cpuMemoryBytes) / 2 ** 20).toFixed(1)} MiB wasm memory`;
    return `backend ${d.backend}, ${d.dispatchesPerRun} dispatches/run`;
  }
  if (key.startsWith('tfjs')) return `tfjs ${d.tfjs} ${d.backend}${d.simd === true ? ', SIMD' : ''}`;
  if (key.startsWith('ort-wasm')) {
    const isolated = d.crossOriginIsolated === 'n/a' ? '' : `, crossOriginIsolated=${d.crossOriginIsolated}`;
    return `${d.wasm || 'Node build'}, ${d.numThreads} thread(s)${isolated}`;
  }
  return String(d.wasm);
}

function engineTable(models: readonly ModelResult[]): string[] {
  const lines = ['| model | engine | first (ms): create + run | steady median (ms) | steady p90 (ms) | samples×runs | max\\|Δ\\| | note |', '|---|---|---:|---:|---:|---:|---:|---|'];
  for (const m of models) {
    for (const [key, r] of Object.entries(m.engines)) {
      if (r.status === 'ok') {
        const diff = r.maxAbsDiffVsReference === undefined ? '' : r.maxAbsDiffVsReference.toExponential(1);
        lines.push(`| ${m.id} | ${key} | ${ms(r.firstMs)} (${ms(r.createMs)} + ${ms(r.firstRunMs)}) | ${ms(r.medianMs)} | ${ms(r.p90Ms)} | ${r.runsPerSample > 1 ? `${r.runs}×${r.runsPerSample}` : r.runs} | ${diff} | ${cell(engineNote(key, r))} |`);
      } else {
        const what = r.status === 'error' ? `error (${r.stage}): ${short(r.error)}` : r.reason;
        lines.push(`| ${m.id} | ${key} | ${cell(what)} | | | | | |`);
      }
    }
  }
  return lines;
}

const ratio = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(2)}×`);

function ratioTable(models: readonly ModelResult[], bases: readonly string[]): string[] {
  return [
    `| model | ${bases.map((k) => `steady vs ${k} | first vs ${k}`).join(' | ')} |`,
    `|---|${bases.map(() => '---:|---:').join('|')}|`,
    ...models.map((m) => `| ${m.id} | ${bases.map((k) => `${ratio(m.tesseraRatios[k]?.steady)} | ${ratio(m.tesseraRatios[k]?.first)}`).join(' | ')} |`),
  ];
}

interface Meta {
  readonly adapter?: string;
  readonly browserVersion?: string;
  readonly node: string;
  readonly smoke: boolean;
}

function markdown(meta: Meta, opts: Options, webgpu: readonly ModelResult[] | undefined, cpu: Partial<Record<'node' | 'chromium', readonly ModelResult[]>>): string {
  const lines = [`# Tessera bench${meta.smoke ? ' (smoke)' : ''}`, ''];
  if (webgpu) {
    const bases = RATIO_BASES.filter((key) => opts.engines.some((e) => e.id === key));
    lines.push(
      '## WebGPU',
      '',
      `Chromium ${meta.browserVersion}, WebGPU adapter: ${meta.adapter}. ${opts.warmup} warm-up run(s), up to ${opts.runs} steady runs per engine.`,
      'First = session creation (incl. load, compile, ORT wasm instantiation) + first run, in a fresh page. Steady = wall time per run (upload inputs, run, read outputs back).',
      "The note names the ORT wasm build each page loaded, which tells which of ORT-web's WebGPU EPs ran.",
      `max|Δ| is against ${REFERENCE_ENGINE}. Engines: ${[...opts.engines.map((e) => `\`${e.id}\` = ${e.label}`), '`tfjs` = TensorFlow.js'].join('; ')}.`,
      '',
      ...engineTable(webgpu),
      '',
      'Tessera webgpu time / other engine time (below 1: Tessera is faster), steady median and first inference:',
      '',
      ...ratioTable(webgpu, bases),
      '',
    );
  }
  const bases = CPU_RATIO_BASES.filter((key) => opts.cpuEngines.some((e) => e.id === key));
  const places = (['node', 'chromium'] as const).filter((k) => cpu[k]);
  if (places.length) {
    lines.push(
      '## CPU (WebAssembly)',
      '',
      `${opts.cpu.warmup} warm-up run(s), up to ${opts.cpu.runs} steady runs per engine (or ${opts.cpu.budgetMs / 1000} s). ` +
        'Every engine in one process (Node) or one fresh page (Chromium), created and first run one after another (so "first" includes compiling each engine\'s wasm once there), then their steady samples interleaved round by round. ' +
        `max|Δ| is against ${REFERENCE_ENGINE}. TensorFlow.js runs the ONNX graph as tf ops where it is plain dense layers (bench/tfjs-onnx.ts), else n/a. ` +
        `Engines: ${opts.cpuEngines.map((e) => `\`${e.id}\` = ${e.label}`).join('; ')}.`,
      '',
    );
    for (const place of places) {
      lines.push(`### ${place === 'node' ? `Node ${meta.node}` : `Chromium ${meta.browserVersion}`}`, '', ...engineTable(cpu[place]!), '');
      lines.push(
        `Tessera cpu time / other engine time (below 1: Tessera is faster). Target: steady ≤ ${CPU_TARGET.toFixed(2)}× ${REFERENCE_ENGINE}.`,
        '',
        ...ratioTable(cpu[place]!, bases),
        '',
      );
      const verdicts = cpu[place]!.map((m) => {
        const r = m.tesseraRatios[REFERENCE_ENGINE]?.steady;
        return `${m.id} ${r === undefined ? 'not measured' : r <= CPU_TARGET ? 'met' : 'not met'}`;
      });
      lines.push(`Target (steady ≤ ${CPU_TARGET.toFixed(2)}× ORT wasm 1 thread): ${verdicts.join(', ')}.`, '');
    }
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
      sections: { type: 'string' },
      models: { type: 'string' },
      engines: { type: 'string' },
      'cpu-engines': { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
    },
  });
  const smoke = values.smoke ?? false;
  const sections = pick('section', SECTIONS.map((id) => ({ id })), values.sections, SECTIONS).map((x) => x.id);
  const models = pick('model', BENCH_MODELS, values.models, smoke ? [SMOKE_MODEL_ID] : BENCH_MODELS.map((m) => m.id));
  const engines = pick('engine', ENGINES, values.engines, smoke ? SMOKE_ENGINES : ENGINES.map((e) => e.id));
  const cpuEngines = pick('CPU engine', CPU_ENGINES, values['cpu-engines'], smoke ? SMOKE_CPU_ENGINES : CPU_ENGINES.map((e) => e.id));
  if (sections.includes('webgpu') && (!engines.some((e) => e.id === 'tessera-webgpu') || !engines.some((e) => e.id === REFERENCE_ENGINE))) {
    throw new Error(`--engines must include tessera-webgpu and ${REFERENCE_ENGINE} (the subject and the reference)`);
  }
  if (!cpuEngines.some((e) => e.id === CPU_SUBJECT) || !cpuEngines.some((e) => e.id === REFERENCE_ENGINE)) {
    throw new Error(`--cpu-engines must include ${CPU_SUBJECT} and ${REFERENCE_ENGINE} (the subject and the reference)`);
  }
  const opts: Options = {
    engines,
    cpuEngines,
    runs: count(values.runs, smoke ? 3 : 20),
    warmup: count(values.warmup, smoke ? 1 : 3),
    // SwiftShader on two shared cores: cap each engine's steady phase rather than the run count alone.
    budgetMs: smoke ? 5_000 : 20_000,
    cpu: { runs: count(values.runs, smoke ? 20 : 100), warmup: count(values.warmup, smoke ? 2 : 5), budgetMs: smoke ? 2_000 : 10_000 },
    timeoutMs: smoke ? 40_000 : 240_000,
  };
  const prepared = models.map(prepareModel);
  // Both CPU sections load dist/tessera-cpu.wasm; built now, so no timed load waits for clang.
  if (sections.some((s) => s.startsWith('cpu'))) buildWasm({ quiet: true });

  const cpu: Partial<Record<'node' | 'chromium', ModelResult[]>> = {};
  // Node first, while no browser shares the cores.
  if (sections.includes('cpu-node')) {
    console.error(`Node ${process.version}: CPU engines`);
    cpu.node = [];
    for (const p of prepared) cpu.node.push(await benchCpu(p, opts, 'node'));
  }
  let webgpu: ModelResult[] | undefined;
  let harness: Harness | undefined;
  if (sections.includes('webgpu') || sections.includes('cpu-chromium')) {
    harness = await openHarness();
    try {
      console.error(`Chromium ${harness.browserVersion}, adapter: ${harness.adapter}`);
      if (sections.includes('webgpu')) {
        webgpu = [];
        for (const p of prepared) webgpu.push(await benchModel(harness, p, opts));
      }
      if (sections.includes('cpu-chromium')) {
        console.error('Chromium: CPU engines');
        cpu.chromium = [];
        for (const p of prepared) cpu.chromium.push(await benchCpu(p, opts, harness));
      }
    } finally {
      await harness.close();
    }
  }

  const meta: Meta = { adapter: harness?.adapter, browserVersion: harness?.browserVersion, node: process.version, smoke };
  const table = markdown(meta, opts, webgpu, cpu);
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    chromium: { path: CHROMIUM_PATH, flags: CHROMIUM_FLAGS },
    ...meta,
    sections,
    warmup: opts.warmup,
    runs: opts.runs,
    budgetMs: opts.budgetMs,
    engines,
    models: webgpu,
    cpu: { ...opts.cpu, engines: cpuEngines, targetSteadyVsOrtWasm1t: CPU_TARGET, ...cpu },
  };
  writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(outDir, 'bench.md'), table);
  console.log(table);

  // Every engine failing at the harness stage means the page (or the Node side) itself is broken, not an engine.
  const all = [...(webgpu ?? []), ...(cpu.node ?? []), ...(cpu.chromium ?? [])].flatMap((m) => Object.values(m.engines)).filter((r) => r.status !== 'n/a');
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
