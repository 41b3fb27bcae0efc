import { z } from '@hono/zod-openapi';
import { SCOPES } from './key-material.js';

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), detail: z.record(z.string(), z.unknown()).optional() }) })
  .openapi('Error');

export const Digest = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256');
export const ModelName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, . _ - (max 64)');
export const AliasName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase alias name');
/** Versions are numbered 1, 2, ...; paths accept `3` or `v3`. */
export const VersionRef = z
  .string()
  .regex(/^v?[1-9][0-9]{0,8}$/, 'version number such as 3 or v3')
  .transform((v) => Number(v.replace(/^v/, '')));
export const VersionNumber = z.number().int().positive();

export const ModelParams = z.object({ name: ModelName.openapi({ param: { name: 'name', in: 'path' }, example: 'mnist' }) });
export const VersionParams = ModelParams.extend({
  version: VersionRef.openapi({ param: { name: 'version', in: 'path' }, example: 'v3' }),
});

const TensorSpec = z.object({
  name: z.string().max(256),
  dtype: z.string().max(32),
  shape: z.array(z.union([z.number().int(), z.string().max(64), z.null()])).max(16),
});

export const ProducedBy = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('federated'), round: z.string().max(128) }),
  z.object({ kind: z.literal('tool'), name: z.string().max(128), version: z.string().max(64).optional() }),
]);

/** Sent base64url-encoded JSON in the `x-tessera-meta` header of an upload (the body is the artifact). */
export const VersionMetadata = z
  .object({
    framework: z.string().max(64).optional(),
    inputs: z.array(TensorSpec).max(64).optional(),
    outputs: z.array(TensorSpec).max(64).optional(),
    recipe: z.record(z.string(), z.unknown()).optional().openapi({ description: 'compression recipe' }),
    metrics: z.record(z.string(), z.number()).optional(),
    tags: z.array(z.string().max(64)).max(32).optional(),
    lineage: z
      .object({ parent: VersionNumber.optional(), trainingDataDigest: Digest.optional(), producedBy: ProducedBy.optional() })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('VersionMetadata');
export type VersionMetadata = z.infer<typeof VersionMetadata>;

export const Version = z
  .object({
    model: z.string(),
    version: z.number(),
    digest: Digest,
    size: z.number(),
    format: z.enum(['tessera', 'onnx']),
    signature: z.string(),
    keyId: z.string(),
    artifactUrl: z.string(),
    metadata: VersionMetadata,
    hasReferenceProfile: z.boolean(),
    approvedFor: z.array(z.string()),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Version');

export const Alias = z.object({ name: z.string(), version: z.number(), previous: z.number().nullable(), updatedAt: z.string(), updatedBy: z.string() });
export const RolloutWeights = z.array(z.object({ version: VersionNumber, weight: z.number() })).min(1).max(16);
export const RolloutConfig = z.object({ weights: RolloutWeights, shadow: z.array(VersionNumber).max(4).default([]) }).openapi('RolloutConfig');

export const Model = z
  .object({
    name: z.string(),
    description: z.string(),
    createdAt: z.string(),
    aliases: z.array(Alias),
    rollout: RolloutConfig.nullable(),
  })
  .openapi('Model');

export const Scope = z.enum(SCOPES);

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** The error responses every authenticated route can produce. */
export const errorResponses = (...statuses: (400 | 401 | 403 | 404 | 409 | 411 | 413 | 422 | 429 | 503)[]) =>
  Object.fromEntries(statuses.map((s) => [s, jsonContent(ErrorSchema, `error (${s})`)]));
