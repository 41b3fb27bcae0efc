import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

/**
 * `tessera publish|promote|approve|rollback|rollout|versions`: the control-plane commands. The
 * server and key come from TESSERA_URL and TESSERA_KEY; `--json` prints the server's JSON answer
 * instead of a one-line summary. Returns the process exit code (0 ok, 1 server refused, 2 usage).
 */
export const REGISTRY_COMMANDS = ['publish', 'promote', 'approve', 'rollback', 'rollout', 'versions'] as const;

const USAGE = `usage:
  tessera publish FILE --model NAME [--parent V] [--meta FILE] [--json]
  tessera approve NAME V [--stage production] [--json]
  tessera promote NAME V --to STAGE [--expect V|none] [--json]
  tessera rollback NAME [--stage production] [--json]
  tessera rollout NAME --weights v3=95,v4=5 [--shadow v5,...] [--json]
  tessera versions NAME [--json]
environment: TESSERA_URL (control plane), TESSERA_KEY (API key)`;

class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export async function runRegistryCommand(argv: string[], io: Io = { out: console.log, err: console.error, env: process.env }): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${USAGE}`);
      return 2;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

const versionNumber = (text: string | undefined, what: string): number => {
  const match = /^v?([1-9][0-9]*)$/.exec(text ?? '');
  if (!match) throw new UsageError(`${what} must be a version like 3 or v3, got ${JSON.stringify(text)}`);
  return Number(match[1]);
};

export function parseWeights(text: string): { version: number; weight: number }[] {
  return text.split(',').map((part) => {
    const [v, w] = part.split('=');
    const weight = Number(w);
    if (w === undefined || !Number.isFinite(weight)) throw new UsageError(`bad weight ${JSON.stringify(part)}; expected v3=95`);
    return { version: versionNumber(v?.trim(), 'weight version'), weight };
  });
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      model: { type: 'string' }, parent: { type: 'string' }, meta: { type: 'string' }, to: { type: 'string' },
      stage: { type: 'string' }, expect: { type: 'string' }, weights: { type: 'string' }, shadow: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const client = new Client(io.env);
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new UsageError(`${command} needs a model name`);
    return encodeURIComponent(name);
  };
  let result: { status: number; body: any };
  let summary: (body: any) => string;

  switch (command) {
    case 'publish': {
      const file = positionals[0];
      if (!file || !values.model) throw new UsageError('publish needs FILE and --model NAME');
      const meta = values.meta ? (JSON.parse(await readFile(values.meta, 'utf8')) as Record<string, any>) : {};
      if (values.parent) meta.lineage = { ...meta.lineage, parent: versionNumber(values.parent, '--parent') };
      result = await client.upload(`/v1/models/${encodeURIComponent(values.model)}/versions`, file, meta);
      summary = (b) => `published ${b.model} v${b.version} (${b.format}, ${b.size} bytes, sha256 ${b.digest})`;
      break;
    }
    case 'approve': {
      const path = `/v1/models/${needName()}/versions/${versionNumber(positionals[1], 'version')}/approve`;
      result = await client.send('POST', path, { stage: values.stage ?? 'production' });
      summary = (b) => `approved ${b.model} v${b.version} for ${b.stage}`;
      break;
    }
    case 'promote': {
      if (!values.to) throw new UsageError('promote needs --to STAGE');
      const body: Record<string, unknown> = { version: versionNumber(positionals[1], 'version') };
      if (values.expect) body.expectedVersion = values.expect === 'none' ? null : versionNumber(values.expect, '--expect');
      result = await client.send('PUT', `/v1/models/${needName()}/aliases/${encodeURIComponent(values.to)}`, body);
      summary = (b) => `${b.name} -> v${b.version}${b.previous ? ` (was v${b.previous})` : ''}`;
      break;
    }
    case 'rollback': {
      result = await client.send('POST', `/v1/models/${needName()}/aliases/${encodeURIComponent(values.stage ?? 'production')}/rollback`);
      summary = (b) => `${b.name} rolled back to v${b.version}`;
      break;
    }
    case 'rollout': {
      if (!values.weights) throw new UsageError('rollout needs --weights v3=95,v4=5');
      const shadow = values.shadow ? values.shadow.split(',').map((v) => versionNumber(v.trim(), '--shadow')) : [];
      result = await client.send('PUT', `/v1/models/${needName()}/rollout`, { weights: parseWeights(values.weights), shadow });
      summary = (b) => `${b.name}: ${b.rollout.weights.map((w: any) => `v${w.version}=${w.weight}%`).join(' ')}${b.rollout.shadow.length ? ` shadow ${b.rollout.shadow.map((s: number) => `v${s}`).join(',')}` : ''}`;
      break;
    }
    case 'versions': {
      result = await client.send('GET', `/v1/models/${needName()}/versions`);
      summary = (b) => b.versions.map((v: any) => `v${v.version}  ${v.digest.slice(0, 12)}  ${v.format}  ${v.size}B  ${v.createdAt}${v.approvedFor.length ? `  approved:${v.approvedFor.join(',')}` : ''}`).join('\n') || '(no versions)';
      break;
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command');
  }

  if (result.status >= 400) {
    if (values.json) io.out(JSON.stringify(result.body, null, 2));
    else io.err(`error ${result.status} ${result.body?.error?.code ?? ''}: ${result.body?.error?.message ?? JSON.stringify(result.body)}`);
    return 1;
  }
  io.out(values.json ? JSON.stringify(result.body, null, 2) : summary(result.body));
  return 0;
}

class Client {
  private readonly base: string;
  private readonly key: string;
  constructor(env: NodeJS.ProcessEnv) {
    if (!env.TESSERA_URL) throw new UsageError('TESSERA_URL is not set');
    if (!env.TESSERA_KEY) throw new UsageError('TESSERA_KEY is not set');
    this.base = env.TESSERA_URL.replace(/\/+$/, '');
    this.key = env.TESSERA_KEY;
  }

  async send(method: string, path: string, json?: unknown) {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    return this.parse(await fetch(`${this.base}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) }));
  }

  /** Hashes the file in one streaming pass, then streams it up; neither pass holds it in memory. */
  async upload(path: string, file: string, meta: unknown) {
    const { size } = await stat(file);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.key}`,
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'x-content-sha256': hash.digest('hex'),
        'x-tessera-meta': Buffer.from(JSON.stringify(meta)).toString('base64url'),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    return this.parse(response);
  }

  private async parse(response: Response) {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: { code: 'bad_response', message: text.slice(0, 200) } };
    }
    return { status: response.status, body: body as any };
  }
}
