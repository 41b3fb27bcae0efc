/**
 * Deterministic, realistic-looking inputs for the real models: random tensors exercise the
 * arithmetic, but the value ranges a model sees in use (int16-scale audio, normalized pixels with
 * edges and flat regions) are where accumulated error and saturation show.
 */
import type { Tensor } from '../../core/tensor.js';
import { randomTensor } from '../../kernels/testing/harness.js';

export const SAMPLE_RATE = 16_000;

/**
 * Voiced speech, roughly: a glottal pulse train (harmonics of a gliding f0 with a 1/h roll-off)
 * shaped by two moving formants, syllables at ~4 Hz, breath noise; int16 scale, as openWakeWord
 * feeds its melspectrogram.
 */
export function speechLikeWave(samples: number, seed = 1): Float32Array {
  const noise = randomTensor('float32', [samples], seed, [-1, 1]).data;
  const out = new Float32Array(samples);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / SAMPLE_RATE;
    const f0 = 120 + 50 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / SAMPLE_RATE;
    const f1 = 500 + 250 * Math.sin(2 * Math.PI * 1.3 * t);
    const f2 = 1500 + 600 * Math.sin(2 * Math.PI * 0.9 * t + 1);
    let voiced = 0;
    for (let h = 1; h * f0 < 4000; h++) {
      const f = h * f0;
      const formant = Math.exp(-(((f - f1) / 150) ** 2)) + 0.6 * Math.exp(-(((f - f2) / 250) ** 2)) + 0.05;
      voiced += (formant / h) * Math.sin(h * phase);
    }
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) ** 2;
    out[i] = 6000 * syllable * voiced + 300 * noise[i]!;
  }
  return out;
}

/** A face-ish NHWC image in [-1, 1] (BlazeFace's input convention): skin ellipse, eyes, mouth, on a gradient. */
export function syntheticFace(size: number): Tensor {
  const data = new Float32Array(size * size * 3);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x - c) / (size * 0.28);
      const v = (y - c) / (size * 0.36);
      const inFace = u * u + v * v < 1;
      const eye = ((x - c * 0.75) ** 2 + (y - c * 0.8) ** 2 < (size * 0.04) ** 2) || ((x - c * 1.25) ** 2 + (y - c * 0.8) ** 2 < (size * 0.04) ** 2);
      const mouth = Math.abs(y - c * 1.35) < size * 0.02 && Math.abs(x - c) < size * 0.12;
      const bg = [0.2 + 0.5 * (y / size), 0.3, 0.5 - 0.3 * (x / size)];
      const skin = [0.85, 0.65, 0.55];
      const rgb = eye || mouth ? [0.1, 0.05, 0.05] : inFace ? skin : bg;
      for (let k = 0; k < 3; k++) data[(y * size + x) * 3 + k] = rgb[k]! * 2 - 1;
    }
  }
  return { dtype: 'float32', dims: [1, size, size, 3], data };
}

/**
 * A line of dark "glyphs" on a light background, NCHW, normalized as PaddleOCR does
 * ((p / 255 − 0.5) / 0.5).
 */
export function syntheticTextLine(height: number, width: number, seed = 3): Tensor {
  const widths = randomTensor('int32', [64], seed, [4, 12]).data;
  const data = new Float32Array(3 * height * width);
  let x0 = 6;
  let glyph = 0;
  const ink = new Uint8Array(width * height);
  while (x0 < width - 6) {
    const w = widths[glyph % widths.length]!;
    for (let x = x0; x < Math.min(x0 + w, width - 6); x++) {
      for (let y = Math.round(height * 0.25); y < Math.round(height * 0.75); y++) {
        // Strokes: the glyph's outline plus a diagonal, so there are edges at several angles.
        const edge = x === x0 || x === x0 + w - 1 || y === Math.round(height * 0.25) || Math.abs((x - x0) * 2 - (y - height * 0.25)) < 1.5;
        if (edge) ink[y * width + x] = 1;
      }
    }
    x0 += w + 3;
    glyph++;
  }
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < width * height; i++) {
      const p = ink[i] ? 30 + 10 * k : 235 - 5 * k;
      data[k * width * height + i] = (p / 255 - 0.5) / 0.5;
    }
  }
  return { dtype: 'float32', dims: [1, 3, height, width], data };
}
