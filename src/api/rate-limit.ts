import type { Context, MiddlewareHandler } from 'hono';
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

  /** Takes `n` tokens if there are that many (and none otherwise). */
  take(now: number, n = 1): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
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

/** The bucket and source each limited request was charged to, for charge(). */
const charged = new WeakMap<
  Request,
  { bucket: TokenBucket; key: string; ratePerSec: number; now: () => number }
>();

/**
 * Charges a request that carries many events `n - 1` more tokens (the limiter took one as it
 * came in): a batch of invocations counts as that many requests. Answers 429 when the source has
 * not that many left; a request no limiter saw is not charged.
 */
export function chargeEvents(c: Context, n: number): void {
  const entry = charged.get(c.req.raw);
  if (!entry || n <= 1) return;
  if (!entry.bucket.take(entry.now(), n - 1)) {
    throw new HttpError(429, 'rate_limited', `${n} events are more than ${entry.key} may send now`, {
      'Retry-After': String(Math.max(1, Math.ceil(n / entry.ratePerSec))),
    });
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
    charged.set(c.req.raw, { bucket: b, key, ratePerSec: o.ratePerSec, now });
    await next();
  };
}
