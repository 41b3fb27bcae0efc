// zod/mini rather than zod: the same validation at a tenth of the size in the library a browser
// or Worker downloads (the classic API would more than double dist/tessera.mjs).
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { FORMAT_VERSION } from './format.js';

/**
 * The bundle manifest: everything but the tensor bytes, as JSON. Graph attributes are tagged
 * one-key objects so that every IR attribute kind survives the trip, including empty lists (ints
 * or strings?) and non-finite floats, which JSON numbers cannot hold.
 */

const NonFinite = z.enum(['NaN', 'Infinity', '-Infinity']);
export type NumberJson = number | z.infer<typeof NonFinite>;
const NumberJson = z.union([z.number(), NonFinite]);

const Count = z.int().check(z.nonnegative());
const DType = z.enum(['float32', 'int32', 'int64', 'bool']);
/** Symbolic dims stay names, as in the IR. */
const Dim = z.union([Count, z.string()]);

export type AttrJson =
  | { readonly number: NumberJson }
  | { readonly string: string }
  | { readonly numbers: readonly NumberJson[] }
  | { readonly strings: readonly string[] }
  /** Index into the manifest's tensor table. */
  | { readonly tensor: number }
  | { readonly graph: GraphJson };

export interface ValueJson {
  readonly name: string;
  readonly dtype: z.infer<typeof DType>;
  readonly dims: readonly (number | string)[];
}

export interface NodeJson {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrJson>>;
}

export interface GraphJson {
  readonly nodes: readonly NodeJson[];
  readonly inputs: readonly ValueJson[];
  readonly outputs: readonly ValueJson[];
  readonly initializers: readonly { readonly name: string; readonly tensor: number }[];
}

const Value = z.strictObject({ name: z.string(), dtype: DType, dims: z.array(Dim) });

const Attr: z.ZodMiniType<AttrJson> = z.lazy(() =>
  z.union([
    z.strictObject({ number: NumberJson }),
    z.strictObject({ string: z.string() }),
    z.strictObject({ numbers: z.array(NumberJson) }),
    z.strictObject({ strings: z.array(z.string()) }),
    z.strictObject({ tensor: Count }),
    z.strictObject({ graph: Graph }),
  ]),
);

const Graph: z.ZodMiniType<GraphJson> = z.lazy(() =>
  z.strictObject({
    nodes: z.array(
      z.strictObject({
        name: z.string(),
        opType: z.string().check(z.minLength(1)),
        domain: z.string(),
        inputs: z.array(z.string()),
        outputs: z.array(z.string()),
        attrs: z.record(z.string(), Attr),
      }),
    ),
    inputs: z.array(Value),
    outputs: z.array(Value),
    initializers: z.array(z.strictObject({ name: z.string(), tensor: Count })),
  }),
);

export const TensorEntry = z.strictObject({
  name: z.string(),
  dtype: DType,
  dims: z.array(Count),
  /** How the bytes are arranged ('dense', 'int8x4-rows', ...): informational; op attributes carry the semantics. */
  layout: z.string().check(z.minLength(1)),
  /** Byte offset from the start of the data section (a multiple of the alignment). */
  offset: Count,
  length: Count,
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});
export type TensorEntry = z.infer<typeof TensorEntry>;

const Opaque = z.record(z.string(), z.unknown());

export const ModelIdentity = z.strictObject({
  /** Machine name, the registry's model name; with `version` it is what a signature names. */
  id: z.string().check(z.minLength(1)),
  /** Display name. */
  name: z.string(),
  /** A positive integer, as the registry numbers versions. */
  version: z.int().check(z.positive()),
});
export type ModelIdentity = z.infer<typeof ModelIdentity>;

export const Manifest = z.strictObject({
  format: z.literal(FORMAT_VERSION),
  model: ModelIdentity,
  /** Opset of the default ONNX domain. */
  opset: z.int(),
  producer: z.string(),
  graph: Graph,
  tensors: z.array(TensorEntry),
  compression: z.optional(Opaque),
  lineage: z.optional(Opaque),
  metrics: z.optional(Opaque),
  telemetryProfile: z.optional(Opaque),
});
export type BundleManifest = z.infer<typeof Manifest>;

/** The caller-supplied metadata of a bundle, as `writeBundle` takes it and `tessera pack --meta` reads it. */
export const BundleMeta = z.strictObject({
  model: ModelIdentity,
  /** Layout per tensor name, overriding what the consuming op implies (else 'dense'). */
  layouts: z.optional(z.record(z.string(), z.string().check(z.minLength(1)))),
  compression: z.optional(Opaque),
  lineage: z.optional(Opaque),
  metrics: z.optional(Opaque),
  telemetryProfile: z.optional(Opaque),
});
export type BundleMeta = z.infer<typeof BundleMeta>;

// zod/mini carries no messages of its own; English ones are passed per parse rather than set
// globally, which would change zod's behaviour for the application too.
const messages = { error: en().localeError };

/** The parsed value, or one line naming each problem by its path. */
export function validate<T>(schema: z.ZodMiniType<T>, data: unknown): { ok: true; data: T } | { ok: false; problem: string } {
  const r = schema.safeParse(data, messages);
  if (r.success) return { ok: true, data: r.data };
  return { ok: false, problem: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

export function numberToJson(v: number): NumberJson {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function numberFromJson(v: NumberJson): number {
  return typeof v === 'number' ? v : Number(v);
}
