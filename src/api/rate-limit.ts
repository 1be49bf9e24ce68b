import type { MiddlewareHandler } from 'hono';
import { clientOf } from '../http/client-address.js';
import { HttpError } from './errors.js';

/**
 * A token bucket, pure: `take(now)` answers whether a request may pass at time `now` (ms).
 * Tokens refill at `ratePerSec` up to `burst`.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is there. */
  waitMs(): number {
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }

  full(now: number): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.ratePerSec >= this.burst;
  }
}

/**
 * Limits requests per source address (the client's, behind a trusted proxy); over the limit answers 429 with Retry-After.
 * @example app.use('/hooks/*', rateLimit({ ratePerSec: 500, burst: 1000 }));
 */
export function rateLimit(o: { ratePerSec: number; burst: number; now?: () => number }): MiddlewareHandler {
  const buckets = new Map<string, TokenBucket>();
  const now = o.now ?? Date.now;
  return async (c, next) => {
    const t = now();
    const key = clientOf(c);
    let b = buckets.get(key);
    if (!b) {
      // Forget sources that have been quiet long enough to refill; bounds memory under many sources.
      if (buckets.size > 10_000) for (const [k, v] of buckets) if (v.full(t)) buckets.delete(k);
      b = new TokenBucket(o.ratePerSec, o.burst, t);
      buckets.set(key, b);
    }
    if (!b.take(t)) {
      throw new HttpError(429, 'rate_limited', `more than ${o.ratePerSec} requests/s from ${key}`, {
        'Retry-After': String(Math.max(1, Math.ceil(b.waitMs() / 1000))),
      });
    }
    await next();
  };
}
