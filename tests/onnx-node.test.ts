/**
 * ONNX conformance: every single-operator test of Debian's libonnx-testdata whose one node is an
 * operator Tessera registers, run on each backend with kernels of its own (WebGPU, and the CPU's WebAssembly
 * kernels) against the expected outputs shipped with the test. Each test's files are read and
 * parsed once, for both backends. Tests outside Tessera's scope are listed in EXCLUDED with the
 * reason, and printed; nothing is skipped silently. A per-operator table of max errors is printed
 * per backend.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { Session } from '../core/session.js';
import { decodeTensorProto, loadOnnx } from '../core/onnx/load-onnx.js';
import type { Model } from '../core/ir/graph.js';
import type { Tensor } from '../core/tensor.js';
import { opRegistry } from '../kernels/registry.js';
import { KERNEL_BACKENDS, testDevice } from '../kernels/testing/harness.js';
import { ABS_TOL, REL_TOL, compareTensors, fmt } from './support/compare.js';

const DATA = '/usr/share/libonnx-testdata/data/node';

/** Every operator Tessera registers: each has a WebGPU and a CPU kernel, or only ever folds at load. */
const OPS = Object.keys(opRegistry);

const UINT8 = 'uint8 tensors (wrapping 8-bit arithmetic) are outside Tessera\'s dtypes (float32, int32, int64, bool)';
const UINT32_64 = 'uint32/uint64 tensors are outside Tessera\'s dtypes';
const FLOAT16 = 'float16 tensors: fp16 storage is a weight format, not a graph dtype, in v1';
const DOUBLE = 'double tensors are outside Tessera\'s dtypes (float32 only)';
const BFLOAT16 = 'bfloat16 tensors are outside Tessera\'s dtypes';
const STRING = 'string tensors are outside Tessera\'s dtypes';
const DROPOUT_TRAINING = 'Dropout with training_mode=1 and a ratio above 0 draws a random mask: inference only';

/** Whole tests outside scope, each with its reason. */
const EXCLUDED: Readonly<Record<string, string>> = {
  test_add_uint8: UINT8, test_sub_uint8: UINT8, test_mul_uint8: UINT8, test_div_uint8: UINT8,
  test_max_uint8: UINT8, test_min_uint8: UINT8, test_maxpool_2d_uint8: UINT8,
  test_max_uint32: UINT32_64, test_max_uint64: UINT32_64, test_min_uint32: UINT32_64, test_min_uint64: UINT32_64,
  test_pow_types_float32_uint32: UINT32_64, test_pow_types_float32_uint64: UINT32_64,
  test_max_float16: FLOAT16, test_min_float16: FLOAT16,
  test_max_float64: DOUBLE, test_min_float64: DOUBLE,
  test_cast_BFLOAT16_to_FLOAT: BFLOAT16, test_cast_FLOAT_to_BFLOAT16: BFLOAT16,
  test_castlike_BFLOAT16_to_FLOAT_expanded: BFLOAT16, test_castlike_FLOAT_to_BFLOAT16_expanded: BFLOAT16,
  test_cast_DOUBLE_to_FLOAT: DOUBLE, test_cast_FLOAT_to_DOUBLE: DOUBLE,
  test_castlike_DOUBLE_to_FLOAT_expanded: DOUBLE, test_castlike_FLOAT_to_DOUBLE_expanded: DOUBLE,
  test_cast_DOUBLE_to_FLOAT16: `${DOUBLE}; ${FLOAT16}`, test_cast_FLOAT16_to_DOUBLE: `${DOUBLE}; ${FLOAT16}`,
  test_castlike_DOUBLE_to_FLOAT16_expanded: `${DOUBLE}; ${FLOAT16}`, test_castlike_FLOAT16_to_DOUBLE_expanded: `${DOUBLE}; ${FLOAT16}`,
  test_cast_FLOAT16_to_FLOAT: FLOAT16, test_cast_FLOAT_to_FLOAT16: FLOAT16,
  test_castlike_FLOAT16_to_FLOAT_expanded: FLOAT16, test_castlike_FLOAT_to_FLOAT16_expanded: FLOAT16,
  test_cast_FLOAT_to_STRING: STRING, test_cast_STRING_to_FLOAT: STRING,
  test_castlike_FLOAT_to_STRING_expanded: STRING, test_castlike_STRING_to_FLOAT_expanded: STRING,
  test_batchnorm_epsilon_training_mode: 'training_mode=1 (batch statistics and running-mean/var outputs): inference only',
  test_batchnorm_example_training_mode: 'training_mode=1 (batch statistics and running-mean/var outputs): inference only',
  test_training_dropout: DROPOUT_TRAINING, test_training_dropout_default: DROPOUT_TRAINING,
  test_training_dropout_default_mask: DROPOUT_TRAINING, test_training_dropout_mask: DROPOUT_TRAINING,
  test_maxpool_with_argmax_2d_precomputed_pads: 'optional MaxPool Indices output (argmax) is not produced',
  test_maxpool_with_argmax_2d_precomputed_strides: 'optional MaxPool Indices output (argmax) is not produced',
  test_identity_opt: 'optional-typed values are outside Tessera\'s tensor-only IR',
  test_identity_sequence: 'sequence-typed values are outside Tessera\'s tensor-only IR',
};

/**
 * Operators whose tests are run with some outputs left out (the model's graph outputs are pruned
 * to the kept ones, so the runtime is not asked for them at all).
 */
const PARTIAL: Readonly<Record<string, { keep: number; reason: string }>> = {
  LayerNormalization: { keep: 1, reason: 'Mean and InvStdDev outputs are training-time extras; only Y is compared' },
};

type KernelBackend = (typeof KERNEL_BACKENDS)[number];

const DROPOUT_RATIO_FED =
  'training_mode=1 with ratio 0 is the identity, which kernels/layout supports when the ratio is known at load; ' +
  'here the ratio is a graph input and Dropout\'s constInputs list only training_mode, so it stays a feed and the plan refuses';

/**
 * In-scope tests a backend does not pass yet, each with the reason. They run as expected failures:
 * when one starts passing, its test fails and asks for the entry to go.
 */
const KNOWN_GAPS: Readonly<Record<KernelBackend, Readonly<Record<string, string>>>> = {
  webgpu: {
    test_convtranspose_3d: '3-D ConvTranspose runs on the reference backend only (kernels/conv has 1-D/2-D WebGPU kernels)',
    test_training_dropout_zero_ratio: DROPOUT_RATIO_FED,
    test_training_dropout_zero_ratio_mask: DROPOUT_RATIO_FED,
  },
  cpu: {
    test_convtranspose_3d: '3-D ConvTranspose runs on the reference backend only (kernels/conv plans 1-D/2-D CPU kernels, as on WebGPU)',
    test_training_dropout_zero_ratio: DROPOUT_RATIO_FED,
    test_training_dropout_zero_ratio_mask: DROPOUT_RATIO_FED,
  },
};

/** Operators with no single-operator test in the installed data. */
const NO_TESTS: Readonly<Record<string, string>> = {
  Gelu: 'Gelu entered ONNX at opset 20; libonnx-testdata 1.12 predates it (covered by kernels/elementwise tests)',
};

/**
 * Tessera reads opsets 7–23. A few tests were exported at opset 1 or 6 for operators whose
 * definition has not changed since (GlobalAveragePool-1, Not-1, HardSigmoid-6 have no later
 * semantic revision), so their models are re-declared at opset 7 rather than left untested.
 */
const MIN_OPSET = 7;

interface Case {
  readonly dir: string;
  readonly op: string;
}

function discover(): Case[] {
  const cases: Case[] = [];
  const wanted = new Set(OPS);
  for (const dir of readdirSync(DATA).filter((d) => d.startsWith('test_')).sort()) {
    const proto = onnxProto.onnx.ModelProto.decode(readFileSync(join(DATA, dir, 'model.onnx')));
    const nodes = proto.graph?.node ?? [];
    if (nodes.length === 1 && wanted.has(nodes[0]!.opType ?? '')) cases.push({ dir, op: nodes[0]!.opType! });
  }
  return cases;
}

function modelBytes(dir: string): { bytes: Uint8Array; raisedFrom?: number } {
  const bytes = readFileSync(join(DATA, dir, 'model.onnx'));
  const proto = onnxProto.onnx.ModelProto.decode(bytes);
  const entry = proto.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const version = Number(entry?.version ?? 0);
  if (!entry || version >= MIN_OPSET) return { bytes };
  entry.version = MIN_OPSET;
  return { bytes: onnxProto.onnx.ModelProto.encode(proto).finish(), raisedFrom: version };
}

const dataSets = (dir: string): string[] => readdirSync(join(DATA, dir)).filter((f) => f.startsWith('test_data_set_')).sort();

function readSet(dir: string, dataSet: string, prefix: 'input' | 'output'): { name: string; tensor: Tensor }[] {
  const set = join(DATA, dir, dataSet);
  return readdirSync(set)
    .filter((f) => f.startsWith(`${prefix}_`))
    .sort((a, b) => Number(a.slice(prefix.length + 1, -3)) - Number(b.slice(prefix.length + 1, -3)))
    .map((f) => decodeTensorProto(readFileSync(join(set, f))));
}

/**
 * Tessera plans static shapes, so inputs an operator needs at load (its registry entry's
 * `constInputs`: Reshape's shape, Slice's starts, Resize's scales…), and every input of operators
 * that only ever run folded at load (no WebGPU kernel: Shape, ConstantOfShape), become
 * initializers; in real models they are initializers or fold from them. The rest stay feeds. The
 * binding is the same for every backend: an op that merely lacks a CPU kernel must fail on the
 * CPU, not pass by being folded there.
 */
function bindTestData(model: Model, op: string, inputs: readonly { name: string; tensor: Tensor }[], keepOutputs?: number): { model: Model; feeds: Record<string, Tensor> } {
  const def = opRegistry[op];
  const node = model.graph.nodes[0]!;
  const byName = new Map(inputs.map((t, i) => [t.name || model.graph.inputs[i]!.name, t.tensor]));
  const baked = new Set(
    node.inputs.filter((name, i) => name && def && (!def.webgpu || def.constInputs?.includes(i))),
  );
  const initializers = new Map(model.graph.initializers);
  for (const name of baked) initializers.set(name, byName.get(name)!);
  const graph = {
    ...model.graph,
    inputs: model.graph.inputs.filter((i) => !baked.has(i.name)),
    outputs: keepOutputs === undefined ? model.graph.outputs : model.graph.outputs.slice(0, keepOutputs),
    initializers,
  };
  const feeds = Object.fromEntries(graph.inputs.map((i) => [i.name, byName.get(i.name)!]));
  return { model: { ...model, graph }, feeds };
}

interface PreparedSet {
  readonly set: string;
  readonly model: Model;
  readonly feeds: Record<string, Tensor>;
  readonly expected: readonly { name: string; tensor: Tensor }[];
}

const notes: string[] = [];
const prepared = new Map<string, readonly PreparedSet[]>();

/**
 * A test's data sets as models and tensors, read and parsed once and shared by every backend. Each
 * set is its own model: the inputs baked in as initializers may differ between sets.
 */
function prepare(dir: string, op: string): readonly PreparedSet[] {
  let sets = prepared.get(dir);
  if (!sets) {
    const { bytes, raisedFrom } = modelBytes(dir);
    if (raisedFrom !== undefined) notes.push(`${dir}: opset ${raisedFrom} re-declared as ${MIN_OPSET} (operator unchanged since)`);
    const keep = PARTIAL[op]?.keep;
    sets = dataSets(dir).map((set) => ({
      set,
      ...bindTestData(loadOnnx(bytes), op, readSet(dir, set, 'input'), keep),
      expected: readSet(dir, set, 'output').slice(0, keep),
    }));
    prepared.set(dir, sets);
  }
  return sets;
}

interface OpStats {
  run: number;
  passed: number;
  folded: number;
  abs: number;
  rel: number;
  failures: string[];
}

const installed = existsSync(DATA);
const cases = installed ? discover() : [];
const scratchStats = (): OpStats => ({ run: 0, passed: 0, folded: 0, abs: 0, rel: 0, failures: [] });
const stats = new Map(KERNEL_BACKENDS.map((b) => [b, new Map<string, OpStats>(OPS.map((op) => [op, scratchStats()]))]));

it('libonnx-testdata is installed', () => {
  expect(installed, `${DATA} is missing: install Debian's libonnx-testdata (\`sudo apt-get install libonnx-testdata\`, or \`bash scripts/install-system-deps.sh\`)`).toBe(true);
});

it('every operator in scope has conformance tests, or a reason why not', () => {
  // An operator whose tests are all excluded (Cast) is accounted for: each exclusion has its reason.
  const without = OPS.filter((op) => !cases.some((c) => c.op === op) && !NO_TESTS[op]);
  expect(without).toEqual([]);
});

const byOp = new Map<string, Case[]>();
for (const c of cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);

async function sessionOn(backend: KernelBackend, model: Model): Promise<Session> {
  return Session.load(model, backend === 'webgpu' ? { backend, device: (await testDevice()).device } : { backend });
}

for (const backend of KERNEL_BACKENDS) {
  describe(`ONNX node conformance on ${backend}`, () => {
    const gaps = KNOWN_GAPS[backend];
    for (const op of OPS) {
      const opCases = byOp.get(op) ?? [];
      if (opCases.length === 0) continue;
      describe(op, () => {
        for (const { dir } of opCases) {
          const reason = EXCLUDED[dir];
          if (reason) {
            it.skip(`${dir} — excluded: ${reason}`, () => undefined);
            continue;
          }
          const gap = gaps[dir];
          (gap ? it.fails : it)(gap ? `${dir} — known gap on ${backend}, expected to fail: ${gap}` : dir, async () => {
            const s = gap ? scratchStats() : stats.get(backend)!.get(op)!;
            s.run++;
            try {
              const sets = prepare(dir, op);
              expect(sets.length, `${dir} has no test_data_set_*`).toBeGreaterThan(0);
              for (const { set, model, feeds, expected } of sets) {
                const session = await sessionOn(backend, model);
                try {
                  const out = await session.run(feeds);
                  if (session.report().nodes.length === 0) s.folded++;
                  const problems: string[] = [];
                  expected.forEach(({ name, tensor }, i) => {
                    const key = name || model.graph.outputs[i]!.name;
                    const actual = out[key];
                    if (!actual) {
                      problems.push(`output "${key}" missing`);
                      return;
                    }
                    const c = compareTensors(actual, tensor);
                    s.abs = Math.max(s.abs, c.abs);
                    s.rel = Math.max(s.rel, c.rel);
                    if (!c.ok) problems.push(`output "${key}": ${c.problem} (max abs ${fmt(c.abs)}, max rel ${fmt(c.rel)})`);
                  });
                  if (problems.length) expect.fail(`${op} on ${backend}: ${dir}/${set} differs from ONNX's expected output (tolerance: abs ${ABS_TOL} or rel ${REL_TOL}): ${problems.join('; ')}`);
                } finally {
                  session.dispose();
                }
              }
              s.passed++;
            } catch (e) {
              s.failures.push(`${dir}: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`);
              throw e;
            }
          });
        }
      });
    }

    afterAll(() => {
      const opStats = stats.get(backend)!;
      const total = [...opStats.values()].reduce((t, s) => ({ run: t.run + s.run, passed: t.passed + s.passed }), { run: 0, passed: 0 });
      const lines = ['', `ONNX node conformance on ${backend} (libonnx-testdata, ${cases.length} single-operator tests for ${OPS.length} operators): ${total.passed}/${total.run} passed`];
      lines.push(`${'op'.padEnd(20)} ${'pass/run'.padStart(8)} ${'excl'.padStart(4)} ${'gap'.padStart(3)} ${'folded'.padStart(6)} ${'max abs'.padStart(9)} ${'max rel'.padStart(9)}`);
      for (const op of OPS) {
        const s = opStats.get(op)!;
        const count = (list: Readonly<Record<string, string>>): string => String((byOp.get(op) ?? []).filter((c) => list[c.dir]).length);
        const tail = NO_TESTS[op] ? `  (no tests: ${NO_TESTS[op]})` : s.failures.length ? `  FAIL (${s.failures.length}): ${s.failures[0]}` : '';
        lines.push(`${op.padEnd(20)} ${`${s.passed}/${s.run}`.padStart(8)} ${count(EXCLUDED).padStart(4)} ${count(gaps).padStart(3)} ${String(s.folded).padStart(6)} ${fmt(s.abs).padStart(9)} ${fmt(s.rel).padStart(9)}${tail}`);
      }
      lines.push(`folded = every node ran at load (constant inputs): no ${backend} kernel was exercised. max rel is over elements with |expected| >= 1.`);
      lines.push(`Known gaps on ${backend} (run, expected to fail):`);
      for (const c of cases) if (gaps[c.dir]) lines.push(`  ${c.dir}: ${gaps[c.dir]}`);
      console.log(lines.join('\n'));
    });
  });
}

afterAll(() => {
  const lines = ['', 'Excluded tests (every backend):'];
  for (const c of cases) if (EXCLUDED[c.dir]) lines.push(`  ${c.dir}: ${EXCLUDED[c.dir]}`);
  lines.push('Partially compared:');
  for (const [op, p] of Object.entries(PARTIAL)) lines.push(`  ${op} (${(byOp.get(op) ?? []).length} tests): ${p.reason}`);
  if (notes.length) lines.push('Notes:', ...notes.map((n) => `  ${n}`));
  console.log(lines.join('\n'));
});
