import { DurableObject } from 'cloudflare:workers';
import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from './env.js';
import { numberSetting } from './env.js';
import { ApiError } from './errors.js';

export interface TakeResult {
  allowed: boolean;
  /** Milliseconds until one token is available again (0 when allowed). */
  retryAfterMs: number;
}

/**
 * One token bucket per API key. A Durable Object is the single place the count lives, so the
 * limit holds across isolates and colos. The bucket is kept in memory: if the object is evicted
 * the bucket starts full again, which errs on the side of serving.
 */
export class RateLimiter extends DurableObject {
  private tokens = -1;
  private updated = 0;

  take(ratePerSec: number, burst: number): TakeResult {
    const now = Date.now();
    this.tokens = this.tokens < 0 ? burst : Math.min(burst, this.tokens + ((now - this.updated) / 1000) * ratePerSec);
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - this.tokens) / ratePerSec) * 1000) };
  }
}

/** Must run after `requireScope`, which establishes the key being limited. */
export const rateLimit: MiddlewareHandler<AppBindings> = async (c, next) => {
  const { key } = c.var;
  const rate = key.rate_per_sec ?? numberSetting(c.env.RATE_LIMIT_PER_SEC, 50);
  if (rate > 0) {
    const burst = Math.max(1, key.rate_burst ?? numberSetting(c.env.RATE_LIMIT_BURST, rate * 2));
    const stub = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(key.id));
    const result = await stub.take(rate, burst);
    if (!result.allowed) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      throw new ApiError(429, 'rate_limited', `rate limit of ${rate}/s (burst ${burst}) exceeded for this key`);
    }
  }
  await next();
};
