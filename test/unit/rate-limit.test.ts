import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import { chargeEvents, rateLimit, TokenBucket } from '../../src/api/rate-limit.js';

describe('TokenBucket', () => {
  it.each([
    ['a full bucket passes a burst', 5, 5, [0, 0, 0, 0, 0], [true, true, true, true, true]],
    ['past the burst, refused', 5, 2, [0, 0, 0], [true, true, false]],
    ['refills at the rate', 10, 1, [0, 0, 100, 150, 200], [true, false, true, false, true]],
    [
      'never above the burst after a long pause',
      1,
      2,
      [0, 0, 100_000, 100_000, 100_000],
      [true, true, true, true, false],
    ],
  ])('%s', (_name, rate, burst, times, expected) => {
    const b = new TokenBucket(rate as number, burst as number, 0);
    expect((times as number[]).map((t) => b.take(t))).toEqual(expected);
  });

  it('takes many tokens at once, or none', () => {
    const b = new TokenBucket(1, 10, 0);
    expect(b.take(0, 7)).toBe(true);
    expect(b.take(0, 4)).toBe(false);
    expect(b.take(0, 3)).toBe(true);
    expect(b.take(0)).toBe(false);
  });

  it('says how long until the next token', () => {
    const b = new TokenBucket(2, 1, 0);
    b.take(0);
    expect(b.waitMs()).toBe(500);
  });
});

describe('rateLimit middleware', () => {
  it('answers 429 with Retry-After past the limit, and passes again after the refill', async () => {
    let now = 0;
    const app = new Hono();
    app.onError(onError(() => undefined));
    app.use('*', rateLimit({ ratePerSec: 1, burst: 2, now: () => now }));
    app.get('/x', (c) => c.text('ok'));
    expect((await app.request('/x')).status).toBe(200);
    expect((await app.request('/x')).status).toBe(200);
    const limited = await app.request('/x');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    now = 1000;
    expect((await app.request('/x')).status).toBe(200);
  });

  it('charges a request of many events one token per event', async () => {
    const now = 0;
    const app = new Hono();
    app.onError(onError(() => undefined));
    app.use('*', rateLimit({ ratePerSec: 1, burst: 10, now: () => now }));
    app.post('/batch/:n', (c) => {
      chargeEvents(c, Number(c.req.param('n')));
      return c.text('ok');
    });
    expect((await app.request('/batch/6', { method: 'POST' })).status).toBe(200);
    // 4 tokens left: 5 events are refused (the request's own token is spent), then 3 pass.
    const refused = await app.request('/batch/5', { method: 'POST' });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('5 events');
    expect((await app.request('/batch/3', { method: 'POST' })).status).toBe(200);
    expect((await app.request('/batch/1', { method: 'POST' })).status).toBe(429);
  });
});
