import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyArtifact } from '../../core/sign/verify.js';
import { clientBucket, pickVersion } from '../src/rollout.js';
import { ADMIN_KEY, bundle, call, expectJson, newKey, promote, publishApproved, resolveFor, sha256, uniqueName, upload } from './helpers.js';

describe('publish → approve → promote → resolve → canary → rollback', () => {
  let publisher: string;
  let client: string;
  beforeAll(async () => {
    publisher = (await newKey('publisher')).key;
    client = (await newKey('client')).key;
  });

  it('runs the whole lifecycle with consistent state at every step', async () => {
    const model = uniqueName('lifecycle');
    const v1Bytes = bundle(4096);
    const meta = {
      framework: 'tessera',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 784] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 10] }],
      recipe: { quantize: 'int8', prune: 0.5 },
      metrics: { accuracy: 0.981 },
      tags: ['mnist'],
      lineage: { trainingDataDigest: 'a'.repeat(64), producedBy: { kind: 'tool', name: 'tessera-compress', version: '0.1.0' } },
    };
    const v1 = await expectJson(upload(publisher, model, v1Bytes, { meta }), 201);
    expect(v1).toMatchObject({ model, version: 1, digest: await sha256(v1Bytes), size: 4108, format: 'tessera', metadata: meta, approvedFor: [] });

    // Not approved yet: production promotion is refused, nothing changes.
    expect((await promote(publisher, model, 1)).status).toBe(422);
    expect((await resolveFor(client, model, 'c1')).status).toBe(404);

    await publishApproved(publisher, model); // v2, approved, used for the canary below
    await expectJson(call(`/v1/models/${model}/versions/1/approve`, { method: 'POST', key: ADMIN_KEY }), 200);
    const alias = await expectJson(promote(publisher, model, 1), 200);
    expect(alias).toMatchObject({ name: 'production', version: 1, previous: null });

    // Resolve: v1 for everyone, signed, with a working artifact URL and cache validators.
    const res = await resolveFor(client, model, 'client-a');
    const answer = await expectJson(res, 200);
    expect(answer).toMatchObject({ model, version: 1, digest: v1.digest, shadow: [] });
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const notModified = await call(`/v1/models/${model}/resolve?client=client-a`, { key: client, headers: { 'if-none-match': '"1"' } });
    expect(notModified.status).toBe(304);

    const { publicKey } = await expectJson(call('/v1/signing-key'), 200);
    const artifact = await call(new URL(answer.artifactUrl).pathname, { key: client });
    expect(artifact.status).toBe(200);
    const bytes = new Uint8Array(await artifact.arrayBuffer());
    await verifyArtifact({ model, version: 1, digest: answer.digest, signature: answer.signature, publicKey, bytes });
    await expect(verifyArtifact({ model, version: 2, digest: answer.digest, signature: answer.signature, publicKey })).rejects.toThrow(/does not verify/);

    // Canary: 95% v1 / 5% v2, sticky per client, roughly 5% of clients on v2.
    const v2 = await expectJson(call(`/v1/models/${model}/versions/2`, { key: publisher }), 200);
    expect(v2.approvedFor).toEqual(['production']);
    await expectJson(call(`/v1/models/${model}/rollout`, {
      method: 'PUT', key: publisher, json: { weights: [{ version: 1, weight: 95 }, { version: 2, weight: 5 }], shadow: [] },
    }), 200);
    // The server's answers match the sticky hash-and-split for each client, and repeat exactly.
    const weights = [{ version: 1, weight: 95 }, { version: 2, weight: 5 }];
    const clients = Array.from({ length: 60 }, (_, i) => `device-${i}`);
    const expected = await Promise.all(clients.map(async (id) => pickVersion(weights, await clientBucket(model, id))));
    const resolveAll = (ids: string[]) => Promise.all(ids.map(async (id) => (await expectJson(resolveFor(client, model, id), 200)).version as number));
    expect(await resolveAll(clients)).toEqual(expected);
    expect(await resolveAll(clients.slice(0, 20))).toEqual(expected.slice(0, 20));
    // Over many clients the canary share is close to 5%.
    const many = await Promise.all(Array.from({ length: 4000 }, async (_, i) => pickVersion(weights, await clientBucket(model, `c${i}`))));
    expect(many.filter((v) => v === 2).length / many.length).toBeGreaterThan(0.04);
    expect(many.filter((v) => v === 2).length / many.length).toBeLessThan(0.06);

    // Promote v2 to production: the rollout is replaced by 100% v2.
    await expectJson(promote(publisher, model, 2), 200);
    expect((await expectJson(resolveFor(client, model, 'device-0'), 200)).version).toBe(2);

    // One-call rollback: back to v1 for everyone.
    const back = await expectJson(call(`/v1/models/${model}/aliases/production/rollback`, { method: 'POST', key: publisher }), 200);
    expect(back).toMatchObject({ version: 1, previous: null });
    const after = await resolveAll(clients.slice(0, 20));
    expect(new Set(after)).toEqual(new Set([1]));
    // Nothing further back to go to.
    expect((await call(`/v1/models/${model}/aliases/production/rollback`, { method: 'POST', key: publisher })).status).toBe(409);

    // The audit log tells the story in order.
    const { entries } = await expectJson(call(`/v1/audit?model=${model}`, { key: ADMIN_KEY }), 200);
    expect(entries.map((e: { action: string }) => e.action).reverse()).toEqual([
      'model.create', 'version.publish', 'version.publish', 'version.approve', 'version.approve',
      'alias.promote', 'rollout.set', 'alias.promote', 'alias.rollback',
    ]);
    await expect(env.DB.prepare('DELETE FROM audit_log').run()).rejects.toThrow(/append-only/);
  });

  it('keeps shadow versions alongside the assigned one and records lineage', async () => {
    const model = uniqueName('shadow');
    const v1 = await publishApproved(publisher, model);
    await expectJson(promote(publisher, model, v1), 200);
    const v2 = await expectJson(upload(publisher, model, bundle(), { meta: { lineage: { parent: 1, producedBy: { kind: 'federated', round: 'r-7' } } } }), 201);
    expect(v2.metadata.lineage).toEqual({ parent: 1, producedBy: { kind: 'federated', round: 'r-7' } });
    await expectJson(call(`/v1/models/${model}/rollout`, { method: 'PUT', key: publisher, json: { weights: [{ version: 1, weight: 100 }], shadow: [2] } }), 200);
    const res = await resolveFor(client, model, 'x');
    const answer = await expectJson(res, 200);
    expect(answer.version).toBe(1);
    expect(answer.shadow.map((s: { version: number }) => s.version)).toEqual([2]);
    expect(res.headers.get('etag')).toBe('"1+2"');
  });

  it('fills the reference profile slot once and keeps versions immutable', async () => {
    const model = uniqueName('profile');
    await expectJson(upload(publisher, model, bundle()), 201);
    const profile = { bins: { x: [0, 1, 2] }, counts: [3, 4] };
    const filled = await expectJson(call(`/v1/models/${model}/versions/v1/reference-profile`, { method: 'PUT', key: publisher, json: profile }), 200);
    expect(filled.hasReferenceProfile).toBe(true);
    expect(await expectJson(call(`/v1/models/${model}/versions/1/reference-profile`, { key: publisher }), 200)).toEqual(profile);
    expect((await call(`/v1/models/${model}/versions/1/reference-profile`, { method: 'PUT', key: publisher, json: {} })).status).toBe(409);
    await expect(env.DB.prepare("UPDATE versions SET digest = 'x'").run()).rejects.toThrow(/immutable/);
  });
});
