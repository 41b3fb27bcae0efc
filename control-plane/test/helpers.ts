import { exports } from 'cloudflare:workers';
import { toBase64Url, toHex } from '../../core/sign/message.js';
import type { Scope } from '../src/key-material.js';

export const ADMIN_KEY = 'tsk_a00000000000_test-admin-key-not-secret';
export const ORIGIN = 'https://cp.test';

export interface CallOptions {
  method?: string;
  key?: string | undefined;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.key) headers.set('authorization', `Bearer ${options.key}`);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(options.json);
  }
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { method: options.method ?? 'GET', headers, body }));
}

/** Calls and parses JSON, failing loudly with the body when the status is not the expected one. */
export async function expectJson<T = any>(response: Response | Promise<Response>, status: number): Promise<T> {
  const res = await response;
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function newKey(scope: Scope, name = `${scope} key`): Promise<{ id: string; key: string }> {
  return expectJson(call('/v1/keys', { method: 'POST', key: ADMIN_KEY, json: { name, scope } }), 201);
}

export const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** A syntactically valid Tessera bundle: magic, format version 1, then `payload` (random by default). */
export function bundle(payloadBytes = 256): Uint8Array {
  const bytes = new Uint8Array(12 + payloadBytes);
  bytes.set(new TextEncoder().encode('TESSERA\0'));
  new DataView(bytes.buffer).setUint32(8, 1, true);
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 12; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, bytes.length)));
  return bytes;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

export const encodeMeta = (meta: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(meta)));

export async function upload(
  key: string,
  model: string,
  bytes: Uint8Array,
  options: { meta?: unknown; digest?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'x-content-sha256': options.digest ?? (await sha256(bytes)),
    ...(options.meta === undefined ? {} : { 'x-tessera-meta': encodeMeta(options.meta) }),
    ...options.headers,
  };
  return call(`/v1/models/${model}/versions`, { method: 'POST', key, body: bytes, headers });
}

/** Publishes, approves for production and returns the version number. */
export async function publishApproved(publisher: string, model: string, bytes = bundle()): Promise<number> {
  const { version } = await expectJson<{ version: number }>(upload(publisher, model, bytes), 201);
  await expectJson(call(`/v1/models/${model}/versions/${version}/approve`, { method: 'POST', key: ADMIN_KEY, json: { note: 'ok' } }), 200);
  return version;
}

export async function promote(key: string, model: string, version: number, alias = 'production', expectedVersion?: number | null): Promise<Response> {
  return call(`/v1/models/${model}/aliases/${alias}`, { method: 'PUT', key, json: { version, expectedVersion } });
}

export async function resolveFor(key: string, model: string, client: string): Promise<Response> {
  return call(`/v1/models/${model}/resolve?client=${encodeURIComponent(client)}`, { key });
}
