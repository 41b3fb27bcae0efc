import type { ApiKey } from './auth.js';

/** Bindings from wrangler.toml plus the signing secret (which `wrangler types` cannot see). */
export interface AppEnv extends Env {
  /** Ed25519 private key as a JWK JSON string. */
  SIGNING_KEY: string;
}

export interface AppVariables {
  key: ApiKey;
}

export type AppBindings = { Bindings: AppEnv; Variables: AppVariables };

/** Numeric settings arrive as strings from [vars]; a missing or bad value falls back to the default. */
export function numberSetting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}
