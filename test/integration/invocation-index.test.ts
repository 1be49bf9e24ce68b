/**
 * The per-function invocation index on real Redis: written with each final record in one call,
 * skipped for an attempt that will be retried and for a worker that lost its lock, capped,
 * trimmed to the records' TTL; and the console's routes that read it (in memory, `app.request`).
 */
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/api/console.js';
import { onError } from '../../src/api/errors.js';
import type { FunctionSpec } from '../../src/manifest/types.js';
import { INDEX_CAP, indexKey, InvocationIndex } from '../../src/queue/invocation-index.js';
import { RecordStore, type InvocationRecord } from '../../src/queue/records.js';
import { requireRedis, uniqueName } from '../helpers/services.js';

const hex = (n: number) => n.toString(16).padStart(32, '0');

function rec(fn: string, n: number, o: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id: `${fn}.${hex(n)}`,
    function: fn,
    status: 'succeeded',
    logs: [],
    attempts: 1,
    cold: false,
    source: 'invoke',
    timings: { enqueuedAt: 0, finishedAt: Date.now() - 1000 + n, durationMs: n },
    ...o,
  };
}

describe('invocation index', () => {
  let redis: Redis;
  let records: RecordStore;
  let index: InvocationIndex;
  const fn = uniqueName('idx');
  const ids: string[] = [];

  beforeAll(async () => {
    redis = await requireRedis();
    records = new RecordStore(redis, 600);
    index = new InvocationIndex(redis);
  });
  afterAll(async () => {
    await redis.del(indexKey(fn), ...ids.map((id) => `faas:inv:${id}`));
    redis.disconnect();
  });

  const put = async (r: InvocationRecord) => {
    ids.push(r.id);
    await records.put(r);
  };

  it('indexes final outcomes only, newest first, filtered by status and kind', async () => {
    await put(rec(fn, 1));
    await put(rec(fn, 2, { status: 'failed', error: { kind: 'timeout', message: 'slow' } }));
    await put(rec(fn, 3, { status: 'queued', error: { kind: 'handler', message: 'will retry' } }));
    await put(rec(fn, 4, { status: 'failed', error: { kind: 'handler', message: 'x' }, cold: true }));
    expect((await index.list(fn, {}, 10)).map((e) => e.id)).toEqual([4, 2, 1].map((n) => `${fn}.${hex(n)}`));
    expect((await index.list(fn, { status: 'failed' }, 10)).map((e) => e.kind)).toEqual([
      'handler',
      'timeout',
    ]);
    expect(await index.list(fn, { kind: 'timeout' }, 10)).toHaveLength(1);
    expect(await redis.ttl(indexKey(fn))).toBeGreaterThan(500);
    const stats = await index.stats([fn], 60_000, Date.now());
    expect(stats[fn]).toEqual({ count: 3, failures: 2, p50: 2, p99: 4 });
  });

  it('a re-driven invocation that finishes again is listed once, as its newest outcome', async () => {
    await put(rec(fn, 2, { timings: { enqueuedAt: 0, finishedAt: Date.now(), durationMs: 9 } }));
    const listed = (await index.list(fn, {}, 10)).filter((e) => e.id === `${fn}.${hex(2)}`);
    expect(listed).toEqual([expect.objectContaining({ status: 'succeeded', durationMs: 9 })]);
  });

  it('a worker that lost its lock writes neither the record nor the index entry', async () => {
    const lock = `faas:test-lock:${fn}`;
    await redis.set(lock, 'someone-else', 'EX', 60);
    const r = rec(fn, 99);
    expect(await records.putIfOwner(r, lock, 'me')).toBe(false);
    expect(await records.get(r.id)).toBeUndefined();
    expect((await index.list(fn, {}, 100)).some((e) => e.id === r.id)).toBe(false);
    await redis.set(lock, 'me', 'EX', 60);
    ids.push(r.id);
    expect(await records.putIfOwner(r, lock, 'me')).toBe(true);
    expect((await index.list(fn, {}, 100)).some((e) => e.id === r.id)).toBe(true);
    await redis.del(lock);
  });

  it(`keeps at most ${INDEX_CAP} entries, and none older than the TTL`, async () => {
    const other = uniqueName('cap');
    const store = new RecordStore(redis, 60);
    const many = Array.from({ length: INDEX_CAP + 50 }, (_, i) => rec(other, i + 1));
    const old = rec(other, 0, { timings: { enqueuedAt: 0, finishedAt: Date.now() - 3_600_000 } });
    try {
      await store.put(old);
      for (let i = 0; i < many.length; i += 500)
        await Promise.all(many.slice(i, i + 500).map((r) => store.put(r)));
      expect(await redis.zcard(indexKey(other))).toBe(INDEX_CAP);
      expect(await redis.zscore(indexKey(other), `${old.id} succeeded - 0 0`)).toBeNull();
    } finally {
      await redis.del(indexKey(other), old.id, ...[old, ...many].map((r) => `faas:inv:${r.id}`));
    }
  });

  it('the console routes read it: lists with filters, stats, 400 and 404', async () => {
    const app = new Hono();
    app.onError(onError(() => undefined));
    consoleRoutes(app, {
      functions: { [fn]: { name: fn } as FunctionSpec },
      index,
      backlog: async () => ({ waiting: 0, active: 0, delayed: 0, oldestWaitMs: 0 }),
      pools: async () => ({ byFunction: {} }),
    });
    const get = async (path: string) => {
      const res = await app.request(path);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect((await get(`/functions/${fn}/invocations?status=failed&limit=1`)).body).toHaveLength(1);
    expect((await get(`/functions/${fn}/invocations?kind=timeout`)).body).toEqual([]);
    expect((await get(`/functions/${fn}/invocations?status=bogus`)).status).toBe(400);
    expect((await get('/functions/nope/invocations')).status).toBe(404);
    expect((await get(`/functions/${fn}/stats?minutes=1`)).body).toMatchObject({
      windowMs: 60_000,
      count: 4,
    });
    expect((await get('/invocations/stats?minutes=999')).status).toBe(400);
    expect((await get('/invocations/stats')).body).toMatchObject({ functions: { [fn]: { count: 4 } } });
  });

  it('the live stream sends a sample a second with the invocations that just finished', async () => {
    const app = new Hono();
    consoleRoutes(app, {
      functions: { [fn]: { name: fn } as FunctionSpec },
      index,
      backlog: async () => ({ waiting: 3, active: 1, delayed: 0, oldestWaitMs: 5 }),
      pools: async () => ({ byFunction: { [fn]: { starting: 0, idle: 0, busy: 1, draining: 0 } } }),
      tickMs: 100,
    });
    const res = await app.request(`/functions/${fn}/live`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const late = rec(fn, 500, { timings: { enqueuedAt: 0, finishedAt: Date.now(), durationMs: 1 } });
    while ((text.match(/event: sample/g) ?? []).length < 3) {
      text += decoder.decode((await reader.read()).value, { stream: true });
      if (!ids.includes(late.id)) await put(late);
    }
    await reader.cancel();
    const samples = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map(
        (l) =>
          JSON.parse(l.slice(6)) as {
            running: number;
            containers: { busy: number };
            finished: Array<{ id: string }>;
          },
      );
    expect(samples[0]).toMatchObject({ running: 1, containers: { busy: 1 } });
    // Sent once, though later samples read an overlapping window.
    expect(samples.flatMap((s) => s.finished.map((e) => e.id)).filter((id) => id === late.id)).toHaveLength(
      1,
    );
  });

  it('the live stream ends when the platform stops, so its HTTP server can close', async () => {
    const app = new Hono();
    const closing = new AbortController();
    consoleRoutes(app, {
      functions: { [fn]: { name: fn } as FunctionSpec },
      index,
      backlog: async () => ({ waiting: 0, active: 0, delayed: 0, oldestWaitMs: 0 }),
      pools: async () => ({ byFunction: {} }),
      tickMs: 50,
      closing: closing.signal,
    });
    const res = await app.request(`/functions/${fn}/live`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    closing.abort();
    for (;;) if ((await reader.read()).done) break;
  });
});
