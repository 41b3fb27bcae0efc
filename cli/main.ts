/**
 * The `tessera` command line: look inside a model (cli/inspect.ts), pack it as a bundle
 * (cli/pack.ts), run it on a backend with inputs from JSON or .npy files, and (through
 * cli/registry.ts) drive the model registry. `main` returns the exit code; bin/tessera.mjs sets
 * it, so every failure becomes a message and a non-zero status instead of a stack trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TesseraError } from '../core/errors.js';
import { loadModel } from '../core/load-model.js';
import { Session, type Backend, type IoInfo } from '../core/session.js';
import { sizeOf, tensor, type DType, type Tensor } from '../core/tensor.js';
import { option, parseArgs, positiveInt, UsageError, type Parsed } from './args.js';
import { explicitDims, fmtDims, out, readModel, signatureOptions } from './common.js';
import { inspect } from './inspect.js';
import { readNpy, writeNpy } from './npy.js';
import { pack } from './pack.js';
import { compressCommand } from './compress.js';
import { REGISTRY_COMMANDS, runRegistryCommand } from './registry.js';

const USAGE = `Usage:
  MODEL is an ONNX file or a Tessera bundle (.tsra); a bundle's digests are always checked, and
  its signature too with --public-key KEY (base64url Ed25519; --require-signature refuses one
  without).
  tessera inspect MODEL [--dims NAME=D1,D2,...]... [--public-key KEY] [--json]
      Operators with counts and whether Tessera runs them, inputs and outputs, parameter count,
      the stored tensors (dtype, dims, layout, bytes), and whether the model plans at load
      (symbolic dims bound by --dims, else 1); for a bundle also its model id and version, where
      its bytes go, its digests, signature, compression recipe, lineage and metrics.
  tessera pack MODEL.onnx -o OUT.tsra [--name N] [--version V] [--meta FILE.json] [--json]
      Packs an ONNX model as a Tessera bundle. --meta holds {"model": {"id", "name", "version"},
      "layouts", "compression", "lineage", "metrics", "telemetryProfile"}; --name and --version
      (a positive integer, default 1) override its model fields.
  tessera quantize MODEL (--int8|--int4) -o OUT.tsra [--static|--dynamic] [--calibrate FILE.npy]
                    [--percentile P] [--exclude NODE]... [--eval FILE.npy [--labels FILE.npy]]
                    [--backends cpu,webgpu] [--name N] [--report FILE] [--json]
      Quantizes MatMul/Gemm/Conv weights onto Tessera's int8 (W8A8) or int4 (block-32) kernels
      and writes a bundle. --calibrate holds samples (first axis) for static activation scales
      (min-max, or --percentile); without it int8 activations are scaled per row at run time and
      int4 keeps float activations; grouped convs and those with under 16 taps per filter stay
      int8. --eval (and --labels) measure accuracy against the float model, and latency on each
      backend; the report goes to OUT.tsra.report.json.
  tessera prune MODEL --sparsity 2:4|block|0.X -o OUT.tsra [--block R,C|N] [--fraction F] [--int8]
                    [the options of quantize]
      Magnitude pruning: 2:4 (of every 4 weights along K, 2 kept), blocks of N weights (default
      32, --fraction 0.5 of them zeroed) or a fraction of single weights. With --int8, 2:4 runs on
      the sparse int8 kernel; otherwise the zeros stay in float weights.
  tessera run MODEL --inputs FILE [--backend webgpu|cpu|reference|auto] [--out FILE]
                    [--dims NAME=D1,D2,...]... [--repeat N] [--public-key KEY [--require-signature]]
      Runs the model. --inputs is a .json file {"name": {"dims": [...], "type": "float32",
      "data": [...]}} holding every input, a .npy file for a single-input model, or NAME=FILE.npy
      (repeatable). --out writes .json (all outputs) or .npy (one file per output). Prints load,
      first-run and steady timings and the session report.
  tessera publish|promote|rollback|rollout|versions|approve ...
      Model registry commands against the control plane (TESSERA_URL, TESSERA_KEY); each prints
      its own usage when run without arguments.`;

const DTYPES: readonly DType[] = ['float32', 'int32', 'int64', 'bool'];

const ms = (x: number): string => `${x.toFixed(1)} ms`;

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

  const model = await loadModel(readModel(path), signatureOptions(p));
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
  out: { value: true, short: 'o' },
  name: { value: true },
  version: { value: true },
  meta: { value: true },
  'public-key': { value: true },
  'require-signature': { value: false },
  dims: { value: true, repeat: true },
  repeat: { value: true },
  json: { value: false },
  help: { value: false },
  int8: { value: false },
  int4: { value: false },
  static: { value: false },
  dynamic: { value: false },
  calibrate: { value: true },
  percentile: { value: true },
  exclude: { value: true, repeat: true },
  eval: { value: true },
  labels: { value: true },
  batch: { value: true },
  backends: { value: true },
  report: { value: true },
  sparsity: { value: true },
  block: { value: true },
  fraction: { value: true },
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
    if (command === 'inspect') return await inspect(parsed);
    if (command === 'pack') return await pack(parsed);
    if (command === 'quantize' || command === 'prune') return await compressCommand(command, parsed);
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
