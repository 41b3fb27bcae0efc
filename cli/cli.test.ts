/**
 * The `tessera` bin as a user runs it: `node bin/tessera.mjs …` on the built bundle (rebuilt first
 * when any source is newer than dist/cli.mjs), on a small model written for the test. Outputs are
 * checked against the reference backend run in-process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBundle, withSignature } from '../core/bundle/index.js';
import { Session } from '../core/session.js';
import type { Tensor } from '../core/tensor.js';
import { randomTensor } from '../kernels/testing/harness.js';
import { compareTensors } from '../tests/support/compare.js';
import { keyPair } from '../tests/support/bundle-fixtures.js';
import { buildModel, denseReluModel } from '../tests/support/onnx-builder.js';
import { readNpy, writeNpy } from './npy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'tessera.mjs');
const BUNDLE = join(ROOT, 'dist', 'cli.mjs');

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

function buildIfStale(): void {
  const sources = Math.max(...['cli', 'core', 'kernels', 'scripts/build.mjs'].map((p) => newestMtime(join(ROOT, p))));
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed:\n${r.stderr}`);
}

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
const file = (name: string): string => join(dir, name);

function tessera(...args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const x = randomTensor('float32', [2, 4], 11);

async function referenceOutput(input: Tensor): Promise<Tensor> {
  const session = await Session.load(denseReluModel(), { backend: 'reference', inputDims: { x: input.dims } });
  try {
    return (await session.run({ x: input })).y!;
  } finally {
    session.dispose();
  }
}

function expectAgree(actual: Tensor, expected: Tensor): void {
  const c = compareTensors(actual, expected);
  expect(c.ok, c.problem).toBe(true);
}

const readJsonOutput = (path: string): Tensor => {
  const y = (JSON.parse(readFileSync(path, 'utf8')) as Record<string, { dims: number[]; type: string; data: number[] }>).y!;
  expect(y.type).toBe('float32');
  return { dtype: 'float32', dims: y.dims, data: Float32Array.from(y.data) };
};

beforeAll(() => {
  buildIfStale();
  dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  writeFileSync(file('dense.onnx'), denseReluModel());
  writeFileSync(file('x.json'), JSON.stringify({ x: { dims: x.dims, type: 'float32', data: Array.from(x.data) } }));
  writeFileSync(file('x.npy'), writeNpy(x));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tessera inspect', () => {
  it('lists operators with counts and support, inputs and outputs, parameters', () => {
    const r = tessera('inspect', 'dense.onnx');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/parameters: 15\b/);
    expect(r.stdout).toMatch(/x {2}float32 \[batch, 4\]/);
    expect(r.stdout).toMatch(/y {2}float32 \[batch, 3\]/);
    for (const op of ['MatMul', 'Add', 'Relu']) expect(r.stdout).toMatch(new RegExp(`${op} +1 +webgpu \\+ cpu \\+ reference`));
    expect(r.stdout).toMatch(/all 3 operator kinds supported/);
    expect(r.stdout).toMatch(/^plan: plans at load/m);
  });

  it('names the unsupported operators (--json)', () => {
    writeFileSync(file('lstm.onnx'), buildModel({
      inputs: [{ name: 'x', dtype: 'float32', dims: [5, 1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [5, 1, 1, 3] }],
      initializers: { W: randomTensor('float32', [1, 12, 4], 1), R: randomTensor('float32', [1, 12, 3], 2) },
      nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R'], outputs: ['y'], attrs: { hidden_size: 3 } }],
    }));
    const r = tessera('inspect', 'lstm.onnx', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { unsupported: string[]; params: number; plan: { ok: boolean; detail: string } };
    expect(info.unsupported).toEqual(['LSTM']);
    expect(info.params).toBe(12 * 4 + 12 * 3);
    expect(info.plan.ok).toBe(false);
    expect(info.plan.detail).toMatch(/LSTM at node "LSTM_0"/);
  });
});

describe('tessera pack and bundles', () => {
  const meta = { model: { id: 'dense-relu' }, compression: { quantize: 'none' }, metrics: { accuracy: 0.5 }, lineage: { parent: 'dense.onnx' } };

  beforeAll(() => {
    writeFileSync(file('meta.json'), JSON.stringify(meta));
    const r = tessera('pack', 'dense.onnx', '-o', 'dense.tsra', '--name', 'Dense ReLU', '--version', '3', '--meta', 'meta.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/packed dense\.onnx → dense\.tsra: [\d,]+ B, [\d.]+% of the ONNX file's/);
    expect(r.stdout).toMatch(/model dense-relu "Dense ReLU" version 3; 2 tensors, 60 B/);
  });

  it('writes a bundle that inspect reads back (--json): identity, tensors, digests, recipe, metrics', () => {
    expect(readFileSync(file('dense.tsra')).subarray(0, 8).toString('latin1')).toBe('TESSERA\0');
    const r = tessera('inspect', 'dense.tsra', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.format).toBe('tessera-bundle');
    expect(info.bundle).toMatchObject({
      formatVersion: 1, model: { id: 'dense-relu', name: 'Dense ReLU', version: 3 }, signature: { present: false, verified: false },
      compression: meta.compression, metrics: meta.metrics, lineage: meta.lineage,
    });
    expect(info.bundle.fileDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(info.bundle.sizes.total).toBe(statSync(file('dense.tsra')).size);
    expect(info.tensors.map((t: { name: string; dims: number[]; layout: string; bytes: number }) => [t.name, t.dims, t.layout, t.bytes])).toEqual([
      ['W', [4, 3], 'dense', 48],
      ['b', [3], 'dense', 12],
    ]);
    expect(info.tensors[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.params).toBe(15);
    expect(info.plan.ok).toBe(true);
  });

  it('inspect in text lists the tensors of an ONNX model and a bundle alike', () => {
    for (const f of ['dense.onnx', 'dense.tsra']) {
      const r = tessera('inspect', f);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/tensors \(2, 60 B\):\n {2}W +float32 +\[4, 3\] +dense +48 B/);
    }
    const bundle = tessera('inspect', 'dense.tsra').stdout;
    expect(bundle).toMatch(/dense\.tsra: Tessera bundle \(format 1\): dense-relu "Dense ReLU" version 3/);
    expect(bundle).toMatch(/signature: none/);
    expect(bundle).toMatch(/metrics: \{"accuracy":0\.5\}/);
    expect(JSON.parse(tessera('inspect', 'dense.onnx', '--json').stdout).format).toBe('onnx');
  });

  it('run takes a bundle and answers as the ONNX model does', async () => {
    const r = tessera('run', 'dense.tsra', '--inputs', 'x.json', '--backend', 'cpu', '--out', 'y-bundle.json');
    expect(r.code, r.stderr).toBe(0);
    expectAgree(readJsonOutput(file('y-bundle.json')), await referenceOutput(x));
  });

  it('signatures: verified with --public-key, refused when required and absent', async () => {
    const keys = await keyPair();
    const bytes = readFileSync(file('dense.tsra'));
    writeFileSync(file('signed.tsra'), withSignature(bytes, await signBundle(bytes, keys.privateKey)));
    const verified = tessera('inspect', 'signed.tsra', '--public-key', keys.publicKey);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/signature: present, verified with --public-key/);
    expect(tessera('inspect', 'signed.tsra').stdout).toMatch(/signature: present, not checked/);
    const other = await keyPair();
    const wrongKey = tessera('inspect', 'signed.tsra', '--public-key', other.publicKey);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/BundleError \[SIGNATURE_INVALID\]/);
    const unsigned = tessera('run', 'dense.tsra', '--inputs', 'x.json', '--public-key', keys.publicKey, '--require-signature');
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/^tessera: BundleError \[SIGNATURE_REQUIRED\]/m);
  });

  it('a corrupt bundle is refused by inspect and run with the code; bad pack arguments are named', () => {
    const bytes = readFileSync(file('dense.tsra'));
    bytes[bytes.byteLength - 40]! ^= 1;
    writeFileSync(file('corrupt.tsra'), bytes);
    for (const args of [['inspect', 'corrupt.tsra'], ['run', 'corrupt.tsra', '--inputs', 'x.json']]) {
      const r = tessera(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^tessera: BundleError \[TENSOR_DIGEST_MISMATCH\]: tensor "b"/m);
    }
    const noOut = tessera('pack', 'dense.onnx');
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/pack needs -o OUT\.tsra/);
    expect(tessera('pack', 'dense.onnx', '-o', 'v.tsra', '--version', '1.5').code).toBe(2);
    writeFileSync(file('bad-meta.json'), JSON.stringify({ model: { version: 'two' }, metrics: [1] }));
    const badMeta = tessera('pack', 'dense.onnx', '-o', 'v.tsra', '--meta', 'bad-meta.json');
    expect(badMeta.code).toBe(1);
    expect(badMeta.stderr).toMatch(/BundleError \[MANIFEST_INVALID\]: bundle metadata is invalid: model\.version: .*; metrics: /);
    expect(existsSync(file('v.tsra'))).toBe(false);
  });
});

describe('tessera run', () => {
  it('JSON in, JSON out, on WebGPU, with timings and the session report', async () => {
    const r = tessera('run', 'dense.onnx', '--inputs', 'x.json', '--backend', 'webgpu', '--out', 'y.json', '--repeat', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend: webgpu/);
    expect(r.stdout).toMatch(/load: [\d.]+ ms {3}first run: [\d.]+ ms {3}steady: [\d.]+ ms \(median of 2\)/);
    expect(r.stdout).toMatch(/report: [1-9]\d* dispatches\/run/);
    expectAgree(readJsonOutput(file('y.json')), await referenceOutput(x));
  });

  it('.npy in, .npy out; WebGPU, CPU and reference agree', async () => {
    const outputs: Tensor[] = [];
    for (const backend of ['webgpu', 'cpu', 'reference']) {
      const r = tessera('run', 'dense.onnx', '--inputs', 'x.npy', '--backend', backend, '--out', `y-${backend}.npy`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`backend: ${backend}`));
      outputs.push(readNpy(readFileSync(file(`y-${backend}.npy`))));
    }
    expect(outputs[0]!.dims).toEqual([2, 3]);
    const expected = await referenceOutput(x);
    for (const o of outputs) expectAgree(o, expected);
  });

  it('binds symbolic dims with --dims and prints outputs without --out', async () => {
    const x3 = randomTensor('float32', [3, 4], 12);
    writeFileSync(file('x3.npy'), writeNpy(x3));
    const r = tessera('run', 'dense.onnx', '--inputs', 'x=x3.npy', '--dims', 'x=3,4', '--backend', 'webgpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/y {2}float32 \[3, 3\] {2}min /);
    const wrong = tessera('run', 'dense.onnx', '--inputs', 'x=x3.npy', '--dims', 'x=5,4', '--backend', 'reference');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--dims x=5,4 disagrees with the inputs file, which holds \[3, 4\]/);
  });
});

describe('errors', () => {
  it('a bad model file: a clear message and a non-zero exit, no stack trace', () => {
    writeFileSync(file('bad.onnx'), new TextEncoder().encode('definitely not protobuf'));
    const r = tessera('run', 'bad.onnx', '--inputs', 'x.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tessera: ModelFormatError \[MODEL_FORMAT\]: not a valid ONNX file/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const missing = tessera('inspect', 'nowhere.onnx');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read model file "nowhere\.onnx": ENOENT/);
  });

  it('usage errors exit with 2 and show the usage', () => {
    for (const args of [['frobnicate'], ['run', 'dense.onnx'], ['run', 'dense.onnx', '--inputs', 'x.json', '--backend', 'tpu'], ['inspect', 'dense.onnx', '--colour']]) {
      const r = tessera(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/Usage:/);
    }
  });

  it('registry subcommands reach cli/registry.ts', () => {
    const r = tessera('versions');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tessera versions NAME/);
  });

  it('an unreadable .npy is refused with the reason', () => {
    writeFileSync(file('f8.npy'), Buffer.from('k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4Pw==', 'base64'));
    const r = tessera('run', 'dense.onnx', '--inputs', 'f8.npy');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dtype '<f8' is not supported/);
  });
});

describe('npy', () => {
  // Written by numpy 2.4: np.save of float32 [[1.5, -2], [3, 4.25]]; format 2.0 of int64 [7, -8, 9].
  const NUMPY_F4 = 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIhA';
  const NUMPY_I8_V2 = 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAAAAAAAAPj/////////CQAAAAAAAAA=';

  it('reads what numpy writes', () => {
    const f = readNpy(Buffer.from(NUMPY_F4, 'base64'));
    expect([f.dtype, f.dims, Array.from(f.data)]).toEqual(['float32', [2, 2], [1.5, -2, 3, 4.25]]);
    const i = readNpy(Buffer.from(NUMPY_I8_V2, 'base64'));
    expect([i.dtype, i.dims, Array.from(i.data)]).toEqual(['int64', [3], [7, -8, 9]]);
  });

  it('writes what numpy writes, and round-trips every dtype', () => {
    const f = readNpy(Buffer.from(NUMPY_F4, 'base64'));
    expect(Buffer.from(writeNpy(f)).toString('base64')).toBe(NUMPY_F4);
    const cases: Tensor[] = [
      { dtype: 'float32', dims: [], data: Float32Array.of(-0.125) },
      { dtype: 'int32', dims: [2, 1, 2], data: Int32Array.of(1, -2, 2147483647, -2147483648) },
      { dtype: 'int64', dims: [3], data: Int32Array.of(0, -1, 123456789) },
      { dtype: 'bool', dims: [5], data: Uint8Array.of(1, 0, 0, 1, 1) },
      { dtype: 'float32', dims: [0, 3], data: new Float32Array(0) },
    ];
    for (const t of cases) {
      const bytes = writeNpy(t);
      expect((bytes.byteLength - t.data.length * (t.dtype === 'int64' ? 8 : t.dtype === 'bool' ? 1 : 4)) % 64).toBe(0);
      const back = readNpy(bytes);
      expect([back.dtype, back.dims, Array.from(back.data)]).toEqual([t.dtype, t.dims, Array.from(t.data)]);
    }
  });

  it('rejects truncated and foreign files with the reason', () => {
    const f = Buffer.from(NUMPY_F4, 'base64');
    expect(() => readNpy(f.subarray(0, f.byteLength - 3))).toThrow(/truncated/);
    expect(() => readNpy(f.subarray(0, 40))).toThrow(/truncated inside its header/);
    expect(() => readNpy(new TextEncoder().encode('{"x": 1}'))).toThrow(/not a \.npy file/);
  });
});

describe('tessera quantize and prune', () => {
  beforeAll(() => {
    const samples = randomTensor('float32', [40, 4], 21);
    writeFileSync(file('samples.npy'), writeNpy(samples));
    writeFileSync(file('labels.npy'), writeNpy({ dtype: 'int32', dims: [40], data: Int32Array.from({ length: 40 }, (_, i) => i % 3) }));
  });

  it('quantize --int8 with calibration writes a bundle and a report that runs and stays close to float', async () => {
    const r = tessera('quantize', 'dense.onnx', '--int8', '--calibrate', 'samples.npy', '--eval', 'samples.npy', '--labels', 'labels.npy', '-o', 'dense-int8.tsra');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/MatMul_0: QMatMul int8 \[3 x 4\] act_scale/);
    expect(r.stdout).toMatch(/top-1 [\d.]+% \(float [\d.]+%\)/);
    const report = JSON.parse(readFileSync(file('dense-int8.tsra.report.json'), 'utf8')) as {
      recipe: { activations: string }; compressed: { accuracy: { cosine: number; samples: number } }; size: { bundleBytes: number };
    };
    expect(report.recipe.activations).toBe('static');
    expect(report.compressed.accuracy.samples).toBe(40);
    expect(report.compressed.accuracy.cosine).toBeGreaterThan(0.999);
    expect(report.size.bundleBytes).toBe(statSync(file('dense-int8.tsra')).size);
    const run = tessera('run', 'dense-int8.tsra', '--inputs', 'x.json', '--backend', 'cpu', '--out', 'q.json');
    expect(run.code, run.stderr).toBe(0);
    const q = readJsonOutput(file('q.json'));
    const ref = await referenceOutput(x);
    q.data.forEach((v, i) => expect(Math.abs(v - ref.data[i]!)).toBeLessThan(0.05));
  });

  it('prune --sparsity block runs the dense layers on BlockSparseMatMul (4 x 16 blocks by default), --block N keeps them dense', () => {
    const r = tessera('prune', 'dense.onnx', '--sparsity', 'block', '--fraction', '0.5', '-o', 'dense-bsr.tsra', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { layers: { opType: string; format: string }[]; recipe: { sparsity: unknown } };
    expect(report.layers.map((l) => [l.opType, l.format])).toEqual([['BlockSparseMatMul', 'bsr4x16']]);
    expect(report.recipe.sparsity).toEqual({ sparsity: 0.5, block: [4, 16] });
    const run = tessera('run', 'dense-bsr.tsra', '--inputs', 'x.json', '--backend', 'cpu', '--out', 'bsr.json');
    expect(run.code, run.stderr).toBe(0);
    const oneD = tessera('prune', 'dense.onnx', '--sparsity', 'block', '--block', '2', '-o', 'dense-b2.tsra', '--json');
    expect(oneD.code, oneD.stderr).toBe(0);
    expect((JSON.parse(oneD.stdout) as { layers: unknown[] }).layers).toEqual([]);
  });

  it('prune --sparsity 2:4 --int8 uses the sparse kernel; bad options are usage errors', () => {
    const r = tessera('prune', 'dense.onnx', '--sparsity', '2:4', '--int8', '-o', 'dense-24.tsra', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { layers: { opType: string }[]; pruning: { sparsity: number } };
    expect(report.layers.map((l) => l.opType)).toEqual(['SparseQMatMul']);
    expect(report.pruning.sparsity).toBe(0.5);
    expect(tessera('quantize', 'dense.onnx', '-o', 'x.tsra').code).toBe(2);
    expect(tessera('prune', 'dense.onnx', '--sparsity', '1.5', '-o', 'x.tsra').code).toBe(2);
    expect(tessera('prune', 'dense.onnx', '--sparsity', 'block', '--block', '4,0', '-o', 'x.tsra').code).toBe(2);
    expect(tessera('quantize', 'dense.onnx', '--int8', '--static', '-o', 'x.tsra').stderr).toMatch(/calibration samples/);
  });
});
