import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { artifactDigest } from '../core/bundle/sign.js';
import type { BundleMeta } from '../core/bundle/manifest.js';
import { packModel } from '../core/bundle/write.js';
import { option, positiveInt, UsageError, type Parsed } from './args.js';
import { fmtBytes, out, readModel, slug } from './common.js';

/**
 * `tessera pack MODEL.onnx -o OUT.tsra [--name N] [--version V] [--meta FILE.json]`: an ONNX
 * model as a Tessera bundle. The meta file holds what `writeBundle` takes (model id/name/version,
 * layouts, compression, lineage, metrics, telemetryProfile); --name and --version override it.
 */

function readMeta(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read meta file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`meta file "${path}" is not JSON: ${(e as Error).message}`);
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new UsageError(`meta file "${path}" must hold a JSON object`);
  return meta as Record<string, unknown>;
}

export async function pack(p: Parsed): Promise<number> {
  const input = p.positional[1];
  if (!input) throw new UsageError('pack needs a MODEL.onnx file');
  const output = option(p, 'out');
  if (!output) throw new UsageError('pack needs -o OUT.tsra');
  const meta = readMeta(option(p, 'meta'));
  const given = (typeof meta.model === 'object' && meta.model !== null ? meta.model : {}) as Record<string, unknown>;
  const name = option(p, 'name') ?? (typeof given.name === 'string' ? given.name : basename(input, extname(input)));
  const version = option(p, 'version') ? positiveInt(option(p, 'version')!, 'version') : (given.version ?? 1);
  const onnx = readModel(input);
  // packModel validates the whole of it, naming any field that is wrong.
  const packed = await packModel(onnx, { ...meta, model: { id: given.id ?? slug(name), name, version } } as BundleMeta);
  writeFileSync(output, packed.bytes);

  const { sizes, manifest } = packed;
  const facts = {
    input, output, onnxBytes: onnx.byteLength, bundleBytes: packed.bytes.byteLength,
    ratio: packed.bytes.byteLength / onnx.byteLength, model: manifest.model, tensors: manifest.tensors.length, sizes,
    fileDigest: packed.fileDigest, artifactDigest: await artifactDigest(packed.bytes),
  };
  if (option(p, 'json')) {
    out(JSON.stringify(facts, null, 2));
    return 0;
  }
  out(`packed ${input} → ${output}: ${fmtBytes(facts.bundleBytes)}, ${(100 * facts.ratio).toFixed(1)}% of the ONNX file's ${fmtBytes(facts.onnxBytes)}`);
  out(`  model ${manifest.model.id} "${manifest.model.name}" version ${manifest.model.version}; ${facts.tensors} tensors, ${fmtBytes(sizes.tensors)}`);
  out(`  overhead: manifest ${fmtBytes(sizes.manifest)} (deflated), alignment padding ${fmtBytes(sizes.padding)}, header and digest ${fmtBytes(sizes.header + sizes.digest)}`);
  out(`  sha256 of the artifact: ${facts.artifactDigest}`);
  return 0;
}
