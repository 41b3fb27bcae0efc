import { readFileSync } from 'node:fs';
import type { SignatureOptions } from '../core/bundle/signature.js';
import { option, parseDims, type Parsed } from './args.js';

/** What the model commands (inspect, pack, run) share: output, model files, and the options they read alike. */

export const out = (s = ''): void => void process.stdout.write(`${s}\n`);
export const fmtDims = (dims: readonly (number | string)[]): string => `[${dims.join(', ')}]`;
export const fmtBytes = (n: number): string => `${n.toLocaleString('en-US')} B`;

/** A registry-style model name from a display name: lowercase letters, digits, '.', '_', '-'. */
export const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64) || 'model';

export function readModel(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read model file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function explicitDims(p: Parsed): Record<string, number[]> {
  return Object.fromEntries((p.options.get('dims') ?? []).map(parseDims));
}

/** `--public-key KEY` checks a bundle's signature; `--require-signature` refuses one without. */
export function signatureOptions(p: Parsed): SignatureOptions {
  return { publicKey: option(p, 'public-key'), requireSignature: option(p, 'require-signature') === 'true' };
}
