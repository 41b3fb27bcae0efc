/**
 * The `tessera` command line: look inside a model, run it on a backend with inputs from JSON or
 * .npy files, and (through cli/registry.ts) drive the model registry. `main` returns the exit
 * code; bin/tessera.mjs sets it, so every failure becomes a message and a non-zero status instead
 * of a stack trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { TesseraError, UnsupportedOpError } from '../core/errors.js';
import { attrTensor, type Graph, type Model } from '../core/ir/graph.js';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { planModel } from '../core/runtime/plan.js';
import { Session, type Backend, type IoInfo } from '../core/session.js';
import { sizeOf, tensor, type DType, type Tensor } from '../core/tensor.js';
import { isOnnxDomain, lookupOp, TESSERA_DOMAIN } from '../kernels/registry.js';
import { option, parseArgs, parseDims, positiveInt, UsageError, type Parsed } from './args.js';
import { readNpy, writeNpy } from './npy.js';
import { REGISTRY_COMMANDS, runRegistryCommand } from './registry.js';

const USAGE = `Usage:
  tessera inspect MODEL [--dims NAME=D1,D2,...]... [--json]
      Operators with counts and whether Tessera runs them, inputs and outputs, parameter count,
      and whether the model plans at load (symbolic dims bound by --dims, else 1).
  tessera run MODEL --inputs FILE [--backend webgpu|cpu|reference|auto] [--out FILE]
                    [--dims NAME=D1,D2,...]... [--repeat N]
      Runs the model. --inputs is a .json file {"name": {"dims": [...], "type": "float32",
      "data": [...]}} holding every input, a .npy file for a single-input model, or NAME=FILE.npy
      (repeatable). --out writes .json (all outputs) or .npy (one file per output). Prints load,
      first-run and steady timings and the session report.
  tessera publish|promote|rollback|rollout|versions|approve ...
      Model registry commands against the control plane (TESSERA_URL, TESSERA_KEY); each prints
      its own usage when run without arguments.`;

const DTYPES: readonly DType[] = ['float32', 'int32', 'int64', 'bool'];

const out = (s = ''): void => void process.stdout.write(`${s}\n`);
const fmtDims = (dims: readonly (number | string)[]): string => `[${dims.join(', ')}]`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function readModel(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read model file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function explicitDims(p: Parsed): Record<string, number[]> {
  return Object.fromEntries((p.options.get('dims') ?? []).map(parseDims));
}

/* ---------------------------------------------------------------- inspect */

interface OpUse {
  readonly opType: string;
  readonly domain: string;
  count: number;
}

/** Operators across the graph and every nested If branch, and the parameters (weights) they hold. */
function survey(graph: Graph, ops = new Map<string, OpUse>()): { ops: Map<string, OpUse>; params: number } {
  let params = [...graph.initializers.values()].reduce((n, t) => n + sizeOf(t.dims), 0);
  for (const node of graph.nodes) {
    const key = `${node.domain}:${node.opType}`;
    const use = ops.get(key) ?? { opType: node.opType, domain: node.domain, count: 0 };
    use.count++;
    ops.set(key, use);
    // Some exporters (paddle2onnx) keep every weight in a Constant node rather than an initializer.
    const value = node.opType === 'Constant' ? attrTensor(node.attrs, 'value') : undefined;
    if (value) params += sizeOf(value.dims);
    for (const a of Object.values(node.attrs)) {
      if (typeof a === 'object' && a !== null && 'nodes' in a) params += survey(a as Graph, ops).params;
    }
  }
  return { ops, params };
}

/** Where an operator runs: kernels by backend, only folded at load, handled by the planner, or not at all. */
function support(use: OpUse): string {
  if (!isOnnxDomain(use.domain) && use.domain !== TESSERA_DOMAIN) return `unsupported (domain "${use.domain}")`;
  if (isOnnxDomain(use.domain) && (use.opType === 'If' || use.opType === 'Constant')) return 'planner (folded at load)';
  const def = lookupOp(use.domain, use.opType);
  if (!def) return 'unsupported (no kernel)';
  const kernels = [def.webgpu && 'webgpu', def.cpu && 'cpu'].filter(Boolean);
  return kernels.length ? [...kernels, 'reference'].join(' + ') : 'reference only (runs folded at load)';
}

function planCheck(model: Model, dims: Record<string, number[]>): { ok: boolean; detail: string } {
  try {
    const plan = planModel(model, { inputDims: dims });
    return { ok: true, detail: `plans at load: ${plan.nodes.length} runtime nodes of ${model.graph.nodes.length} (the rest folded)` };
  } catch (e) {
    if (e instanceof UnsupportedOpError) return { ok: false, detail: e.message };
    return { ok: false, detail: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

function inspect(p: Parsed): number {
  const path = p.positional[1];
  if (!path) throw new UsageError('inspect needs a MODEL file');
  const model = loadOnnx(readModel(path));
  const { ops, params } = survey(model.graph);
  const uses = [...ops.values()].sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType));
  const unsupported = uses.filter((u) => support(u).startsWith('unsupported'));
  const plan = planCheck(model, explicitDims(p));
  const io = (v: IoInfo) => ({ name: v.name, dtype: v.dtype, dims: v.dims });
  if (option(p, 'json')) {
    out(JSON.stringify({
      file: path, opset: model.opset, producer: model.producer, params,
      inputs: model.graph.inputs.map(io), outputs: model.graph.outputs.map(io),
      ops: uses.map((u) => ({ op: u.opType, domain: u.domain, count: u.count, support: support(u) })),
      unsupported: unsupported.map((u) => u.opType), plan,
    }, null, 2));
    return 0;
  }
  out(`${basename(path)}: opset ${model.opset}${model.producer ? `, produced by ${model.producer}` : ''}`);
  out(`parameters: ${params.toLocaleString('en-US')}`);
  out('inputs:');
  for (const v of model.graph.inputs) out(`  ${v.name}  ${v.dtype} ${fmtDims(v.dims)}`);
  out('outputs:');
  for (const v of model.graph.outputs) out(`  ${v.name}  ${v.dtype} ${fmtDims(v.dims)}`);
  out(`operators (${uses.length} kinds, ${uses.reduce((n, u) => n + u.count, 0)} nodes):`);
  const width = Math.max(...uses.map((u) => u.opType.length + (u.domain ? u.domain.length + 3 : 0)), 2);
  for (const u of uses) out(`  ${`${u.opType}${u.domain ? ` (${u.domain})` : ''}`.padEnd(width)}  ${String(u.count).padStart(4)}  ${support(u)}`);
  out(unsupported.length ? `unsupported: ${unsupported.map((u) => u.opType).join(', ')}` : `all ${uses.length} operator kinds supported`);
  out(`${plan.ok ? 'plan' : 'plan FAILS'}: ${plan.detail}`);
  return 0;
}

/* -------------------------------------------------------------------- run */

interface JsonTensor {
  readonly dims: readonly number[];
  readonly type?: string;
  readonly data: unknown;
}

function fromJson(name: string, v: JsonTensor, fallback: DType | undefined): Tensor {
  if (!v || !Array.isArray(v.dims) || v.data === undefined) throw new UsageError(`input "${name}": expected {"dims": [...], "type": "...", "data": [...]}`);
  const dtype = (v.type ?? fallback) as DType;
  if (!DTYPES.includes(dtype)) throw new UsageError(`input "${name}": type "${v.type}" is not one of ${DTYPES.join(', ')}`);
  const flat = (Array.isArray(v.data) ? v.data.flat(Infinity) : [v.data]).map(Number);
  if (flat.length !== sizeOf(v.dims)) throw new UsageError(`input "${name}": ${flat.length} values for dims ${fmtDims(v.dims)} (${sizeOf(v.dims)} needed)`);
  return tensor(dtype, v.dims, flat);
}

function readInputs(specs: readonly string[], inputs: readonly IoInfo[]): Record<string, Tensor> {
  const names = new Set(inputs.map((i) => i.name));
  const feeds: Record<string, Tensor> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const named = eq > 0 && names.has(spec.slice(0, eq));
    const file = named ? spec.slice(eq + 1) : spec;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`cannot read inputs file "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (extname(file) === '.npy') {
      const target = named ? spec.slice(0, eq) : inputs.length === 1 ? inputs[0]!.name : undefined;
      if (!target) throw new UsageError(`the model has ${inputs.length} inputs; name the one "${file}" holds: --inputs NAME=${file}`);
      feeds[target] = readNpy(bytes);
      continue;
    }
    let json: Record<string, JsonTensor>;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, JsonTensor>;
    } catch (e) {
      throw new UsageError(`inputs file "${file}" is neither .npy nor valid JSON: ${(e as Error).message}`);
    }
    for (const [name, v] of Object.entries(json)) feeds[name] = fromJson(name, v, inputs.find((i) => i.name === name)?.dtype);
  }
  return feeds;
}

/** Output names can be anything (BlazeFace's are "Identity:0"); file names get the safe part. */
const fileSafe = (name: string): string => name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'output';

function writeOutputs(path: string, outputs: Record<string, Tensor>): string[] {
  if (extname(path) === '.npy') {
    const entries = Object.entries(outputs);
    if (entries.length === 1) {
      writeFileSync(path, writeNpy(entries[0]![1]));
      return [path];
    }
    const stem = path.slice(0, -'.npy'.length);
    return entries.map(([name, t], i) => {
      const file = `${stem}.${i}.${fileSafe(name)}.npy`;
      writeFileSync(file, writeNpy(t));
      return file;
    });
  }
  const json = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { dims: t.dims, type: t.dtype, data: Array.from(t.data) }]));
  writeFileSync(path, JSON.stringify(json));
  return [path];
}

function describeTensor(name: string, t: Tensor): string {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of t.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const head = Array.from(t.data.subarray(0, 6), (v) => (t.dtype === 'float32' ? Number(v.toPrecision(6)) : v)).join(', ');
  const stats = t.data.length ? `  min ${min.toPrecision(5)} max ${max.toPrecision(5)} mean ${(sum / t.data.length).toPrecision(5)}` : '';
  return `  ${name}  ${t.dtype} ${fmtDims(t.dims)}${stats}\n    [${head}${t.data.length > 6 ? ', …' : ''}]`;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function run(p: Parsed): Promise<number> {
  const path = p.positional[1];
  if (!path) throw new UsageError('run needs a MODEL file');
  const specs = p.options.get('inputs') ?? [];
  if (specs.length === 0) throw new UsageError('run needs --inputs FILE (.json or .npy)');
  const backend = (option(p, 'backend') ?? 'auto') as Backend;
  if (!['webgpu', 'cpu', 'reference', 'auto'].includes(backend)) throw new UsageError(`--backend must be webgpu, cpu, reference or auto, got "${backend}"`);
  const repeat = positiveInt(option(p, 'repeat') ?? '1', 'repeat');

  const bytes = readModel(path);
  const model = loadOnnx(bytes);
  const feeds = readInputs(specs, model.graph.inputs);
  // The feeds' own dims bind symbolic dims; --dims, when given, must say the same (the session
  // would otherwise plan for the --dims and then quietly re-plan for the feeds).
  const inputDims: Record<string, number[]> = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, [...t.dims]]));
  for (const [name, dims] of Object.entries(explicitDims(p))) {
    const fed = inputDims[name];
    if (fed && fed.join() !== dims.join()) throw new UsageError(`--dims ${name}=${dims.join(',')} disagrees with the inputs file, which holds ${fmtDims(fed)}`);
    inputDims[name] = dims;
  }

  let t = performance.now();
  const session = await Session.load(model, { backend, inputDims });
  const loadMs = performance.now() - t;
  try {
    t = performance.now();
    const outputs = await session.run(feeds);
    const firstMs = performance.now() - t;
    const steady: number[] = [];
    for (let i = 1; i < repeat; i++) {
      t = performance.now();
      await session.run(feeds);
      steady.push(performance.now() - t);
    }
    const report = session.report();
    out(`backend: ${report.backend} (${report.reason})`);
    out(`load: ${ms(loadMs)}   first run: ${ms(firstMs)}   steady: ${steady.length ? `${ms(median(steady))} (median of ${steady.length})` : 'n/a (use --repeat N)'}`);
    const launches = report.backend === 'cpu' ? 'kernel calls/run' : `dispatches/run, ${report.pipelines} pipelines`;
    out(`report: ${report.dispatchesPerRun} ${launches}, ${report.nodes.length} runtime nodes on ${report.backend}, ${report.foldedAtLoad} folded at load`);
    if (option(p, 'out')) {
      for (const f of writeOutputs(option(p, 'out')!, outputs)) out(`wrote ${f}`);
    } else {
      out('outputs:');
      for (const [name, v] of Object.entries(outputs)) out(describeTensor(name, v));
    }
    return 0;
  } finally {
    session.dispose();
  }
}

/* ------------------------------------------------------------------- main */

const OPTIONS = {
  inputs: { value: true, repeat: true },
  backend: { value: true },
  out: { value: true },
  dims: { value: true, repeat: true },
  repeat: { value: true },
  json: { value: false },
  help: { value: false },
} as const;

export async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  try {
    if (command && (REGISTRY_COMMANDS as readonly string[]).includes(command)) return await runRegistryCommand([...argv]);
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      out(USAGE);
      return command ? 0 : 2;
    }
    const parsed = parseArgs(argv, OPTIONS);
    if (option(parsed, 'help')) {
      out(USAGE);
      return 0;
    }
    if (command === 'inspect') return inspect(parsed);
    if (command === 'run') return await run(parsed);
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tessera: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof TesseraError) {
      process.stderr.write(`tessera: ${e.name} [${e.code}]: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`tessera: error: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}
