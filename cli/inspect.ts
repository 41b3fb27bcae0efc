import { basename } from 'node:path';
import { isBundle } from '../core/bundle/format.js';
import { artifactDigest } from '../core/bundle/sign.js';
import { readBundle, type BundleContents } from '../core/bundle/read.js';
import { tensorsToStore } from '../core/bundle/write.js';
import { UnsupportedOpError } from '../core/errors.js';
import { attrTensor, isGraphAttr, type Graph, type Model } from '../core/ir/graph.js';
import { loadOnnx } from '../core/onnx/load-onnx.js';
import { planModel } from '../core/runtime/plan.js';
import type { IoInfo } from '../core/session.js';
import { sizeOf } from '../core/tensor.js';
import { isOnnxDomain, lookupOp, TESSERA_DOMAIN } from '../kernels/registry.js';
import { option, UsageError, type Parsed } from './args.js';
import { explicitDims, fmtBytes, fmtDims, out, readModel, signatureOptions } from './common.js';

/**
 * `tessera inspect FILE`: what an ONNX model or a Tessera bundle holds (operators and where they
 * run, inputs and outputs, every stored tensor with its dtype, dims, layout and size) and whether
 * it plans at load; for a bundle also its identity, where its bytes go, its digests, its signature,
 * and the compression recipe, lineage and metrics it carries.
 */

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
      if (isGraphAttr(a)) params += survey(a, ops).params;
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

interface TensorRow {
  readonly name: string;
  readonly dtype: string;
  readonly dims: readonly number[];
  readonly layout: string;
  readonly bytes: number;
  readonly sha256?: string;
}

/** The stored tensors: a bundle's table, or those a bundle of this ONNX model would hold. */
function tensorRows(model: Model, bundle: BundleContents | undefined): TensorRow[] {
  if (bundle) return bundle.manifest.tensors.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, layout: t.layout, bytes: t.length, sha256: t.sha256 }));
  return tensorsToStore(model).tensors.map(({ name, tensor, layout }) => ({ name, dtype: tensor.dtype, dims: tensor.dims, layout, bytes: tensor.data.byteLength }));
}

async function bundleFacts(bytes: Uint8Array, contents: BundleContents) {
  const { manifest, sizes } = contents;
  return {
    formatVersion: manifest.format,
    model: manifest.model,
    sizes,
    fileDigest: contents.fileDigest,
    artifactDigest: await artifactDigest(bytes),
    signature: { present: contents.embeddedSignature !== undefined, verified: contents.verified },
    compression: manifest.compression,
    lineage: manifest.lineage,
    metrics: manifest.metrics,
    telemetryProfile: manifest.telemetryProfile,
  };
}

type BundleFacts = Awaited<ReturnType<typeof bundleFacts>>;

function printBundle(path: string, b: BundleFacts): void {
  const s = b.sizes;
  out(`${basename(path)}: Tessera bundle (format ${b.formatVersion}): ${b.model.id} "${b.model.name}" version ${b.model.version}`);
  out(
    `bytes: ${fmtBytes(s.total)} = header ${s.header} + manifest ${s.manifest} (deflated) + tensors ${s.tensors} + padding ${s.padding} + digest ${s.digest}` +
      (s.signature ? ` + signature ${s.signature}` : ''),
  );
  out(`sha256 sealed in the file: ${b.fileDigest}`);
  out(`sha256 of the artifact (what the registry and a signature cover): ${b.artifactDigest}`);
  const sig = b.signature;
  out(`signature: ${!sig.present ? 'none' : sig.verified ? 'present, verified with --public-key' : 'present, not checked (pass --public-key KEY)'}`);
  for (const [label, value] of [['compression', b.compression], ['lineage', b.lineage], ['metrics', b.metrics]] as const) {
    out(`${label}: ${value ? JSON.stringify(value) : 'none'}`);
  }
  out(`telemetry profile: ${b.telemetryProfile ? `present (${Object.keys(b.telemetryProfile).join(', ')})` : 'none'}`);
}

function printTensors(rows: readonly TensorRow[]): void {
  out(`tensors (${rows.length}, ${fmtBytes(rows.reduce((n, r) => n + r.bytes, 0))}):`);
  const cells = rows.map((r) => [r.name, r.dtype, fmtDims(r.dims), r.layout, fmtBytes(r.bytes), r.sha256 ? `sha256 ${r.sha256.slice(0, 16)}…` : '']);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(0, ...cells.map((c) => c[i]!.length)));
  for (const c of cells) out(`  ${c.map((v, i) => (i === 4 ? v.padStart(widths[i]!) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd()}`);
}

export async function inspect(p: Parsed): Promise<number> {
  const path = p.positional[1];
  if (!path) throw new UsageError('inspect needs a MODEL file');
  const bytes = readModel(path);
  const contents = isBundle(bytes) ? await readBundle(bytes, signatureOptions(p)) : undefined;
  const model = contents?.model ?? loadOnnx(bytes);
  const bundle = contents && (await bundleFacts(bytes, contents));
  const { ops, params } = survey(model.graph);
  const uses = [...ops.values()].sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType));
  const unsupported = uses.filter((u) => support(u).startsWith('unsupported'));
  const plan = planCheck(model, explicitDims(p));
  const tensors = tensorRows(model, contents);
  const io = (v: IoInfo) => ({ name: v.name, dtype: v.dtype, dims: v.dims });
  if (option(p, 'json')) {
    out(JSON.stringify({
      file: path, format: bundle ? 'tessera-bundle' : 'onnx', ...(bundle && { bundle }),
      opset: model.opset, producer: model.producer, params,
      inputs: model.graph.inputs.map(io), outputs: model.graph.outputs.map(io),
      tensors, tensorBytes: tensors.reduce((n, t) => n + t.bytes, 0),
      ops: uses.map((u) => ({ op: u.opType, domain: u.domain, count: u.count, support: support(u) })),
      unsupported: unsupported.map((u) => u.opType), plan,
    }, null, 2));
    return 0;
  }
  if (bundle) printBundle(path, bundle);
  out(`${bundle ? 'model' : basename(path)}: opset ${model.opset}${model.producer ? `, produced by ${model.producer}` : ''}`);
  out(`parameters: ${params.toLocaleString('en-US')}`);
  out('inputs:');
  for (const v of model.graph.inputs) out(`  ${v.name}  ${v.dtype} ${fmtDims(v.dims)}`);
  out('outputs:');
  for (const v of model.graph.outputs) out(`  ${v.name}  ${v.dtype} ${fmtDims(v.dims)}`);
  printTensors(tensors);
  out(`operators (${uses.length} kinds, ${uses.reduce((n, u) => n + u.count, 0)} nodes):`);
  const width = Math.max(...uses.map((u) => u.opType.length + (u.domain ? u.domain.length + 3 : 0)), 2);
  for (const u of uses) out(`  ${`${u.opType}${u.domain ? ` (${u.domain})` : ''}`.padEnd(width)}  ${String(u.count).padStart(4)}  ${support(u)}`);
  out(unsupported.length ? `unsupported: ${unsupported.map((u) => u.opType).join(', ')}` : `all ${uses.length} operator kinds supported`);
  out(`${plan.ok ? 'plan' : 'plan FAILS'}: ${plan.detail}`);
  return 0;
}
