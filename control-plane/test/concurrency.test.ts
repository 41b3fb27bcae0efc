import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { artifactKey } from '../src/artifact-store.js';
import { ADMIN_KEY, bundle, call, expectJson, newKey, promote, publishApproved, sha256, uniqueName, upload } from './helpers.js';

describe('races end with one winner and consistent state', () => {
  let publisher: string;
  let publisher2: string;
  beforeAll(async () => {
    publisher = (await newKey('publisher')).key;
    publisher2 = (await newKey('publisher')).key;
  });

  it('two publishers uploading the same artifact: one 201, one 409, one version', async () => {
    const model = uniqueName('race-same');
    const bytes = bundle(64 * 1024);
    const results = await Promise.all([upload(publisher, model, bytes), upload(publisher2, model, bytes), upload(publisher, model, bytes)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) {
      expect((await r.json<{ error: { code: string } }>()).error.code).toBe('conflict');
    }
    const { versions } = await expectJson(call(`/v1/models/${model}/versions`, { key: publisher }), 200);
    expect(versions).toHaveLength(1);
    const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE model = ? AND action = 'version.publish'").bind(model).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it('publishers racing with different artifacts get distinct consecutive numbers', async () => {
    const model = uniqueName('race-diff');
    const uploads = Array.from({ length: 6 }, () => bundle(1024));
    const results = await Promise.all(uploads.map((b, i) => upload(i % 2 ? publisher : publisher2, model, b)));
    const bodies = await Promise.all(results.map((r) => expectJson<{ version: number; digest: string }>(r, 201)));
    expect(bodies.map((b) => b.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    // Each signature was made for the number the version actually got.
    const { versions } = await expectJson(call(`/v1/models/${model}/versions`, { key: publisher }), 200);
    expect(new Set(versions.map((v: { digest: string }) => v.digest)).size).toBe(6);
  });

  it('two promotions racing: exactly one moves production, the audit log agrees', async () => {
    const model = uniqueName('race-promote');
    const v1 = await publishApproved(publisher, model);
    const v2 = await publishApproved(publisher, model);
    const v3 = await publishApproved(publisher, model);
    await expectJson(promote(publisher, model, v1), 200);
    // Both saw production at v1 and ask to move it only from there.
    const results = await Promise.all([promote(publisher, model, v2, 'production', v1), promote(publisher2, model, v3, 'production', v1)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const winner = (await results.find((r) => r.status === 200)!.json<{ version: number }>()).version;
    const m = await expectJson(call(`/v1/models/${model}`, { key: publisher }), 200);
    expect(m.aliases).toEqual([expect.objectContaining({ name: 'production', version: winner, previous: v1 })]);
    const { entries } = await expectJson(call(`/v1/audit?model=${model}`, { key: ADMIN_KEY }), 200);
    expect(entries.filter((e: { action: string }) => e.action === 'alias.promote').map((e: { version: number }) => e.version)).toEqual([winner, v1]);
  });

  it('first promotions racing to create an alias: one winner', async () => {
    const model = uniqueName('race-create');
    const v1 = await publishApproved(publisher, model);
    const v2 = await publishApproved(publisher, model);
    const results = await Promise.all([promote(publisher, model, v1, 'staging', null), promote(publisher2, model, v2, 'staging', null)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('promotions without an expected version still serialise: no lost update in the history', async () => {
    const model = uniqueName('race-chain');
    const versions = [await publishApproved(publisher, model), await publishApproved(publisher, model), await publishApproved(publisher, model)];
    const results = await Promise.all(versions.map((v) => promote(publisher, model, v, 'staging')));
    const won = results.filter((r) => r.status === 200).length;
    expect(won).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    // Every successful move is audited exactly once, and each one's `from` is the previous one's target.
    const { entries } = await expectJson(call(`/v1/audit?model=${model}`, { key: ADMIN_KEY }), 200);
    const moves = entries.filter((e: { action: string }) => e.action === 'alias.promote').reverse();
    expect(moves).toHaveLength(won);
    moves.forEach((m: { detail: { from: number | null } }, i: number) => expect(m.detail.from).toBe(i === 0 ? null : moves[i - 1].version));
  });

  it('a failed upload leaves no version, no model and no stored object', async () => {
    const model = uniqueName('failed');
    const bytes = bundle(2048);
    const wrong = await sha256(bundle(16));
    const res = await upload(publisher, model, bytes, { digest: wrong });
    expect(res.status).toBe(422);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('digest_mismatch');
    expect(await env.ARTIFACTS.head(artifactKey(wrong))).toBeNull();
    expect(await env.DB.prepare('SELECT 1 FROM models WHERE name = ?').bind(model).first()).toBeNull();
    expect(await env.DB.prepare('SELECT 1 FROM audit_log WHERE model = ?').bind(model).first()).toBeNull();
    expect((await call(`/v1/models/${model}/versions`, { key: publisher })).status).toBe(404);
  });
});
