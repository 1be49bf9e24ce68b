/**
 * Sync callers wait on the results channel (real Redis): an announcement that arrives before the
 * caller registers is kept for it, a call whose id is its own needs no read of the record, and
 * one that joins an earlier invocation (an idempotency key) reads the finished record at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { invocationId } from '../../src/queue/names.js';
import { RecordStore, type InvocationRecord } from '../../src/queue/records.js';
import { ResultWaiter } from '../../src/queue/waiter.js';
import { recordOf } from '../helpers/records.js';
import { requireRedis, uniqueName } from '../helpers/services.js';

/** Counts the records the waiter reads back. */
class CountingStore extends RecordStore {
  reads = 0;
  /** The ids of each getMany call. */
  batches: string[][] = [];
  override async get(id: string): Promise<InvocationRecord | undefined> {
    this.reads++;
    return super.get(id);
  }
  override async getMany(ids: readonly string[]): Promise<Array<InvocationRecord | undefined>> {
    this.batches.push([...ids]);
    return super.getMany(ids);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store and a waiter on their own connections; `deaf`: the waiter hears no announcement. */
async function setUp(o: { deaf?: boolean } = {}) {
  const redis = await requireRedis();
  const store = new CountingStore(redis, 60);
  const subscriber = await requireRedis();
  const waiter = new ResultWaiter(() => subscriber, store);
  await waiter.watch();
  // Only the store's own word can answer this waiter's callers then.
  if (o.deaf) await subscriber.unsubscribe();
  return { redis, store, waiter };
}

describe('ResultWaiter', () => {
  let redis: Redis;
  let store: CountingStore;
  let waiter: ResultWaiter;
  const fn = uniqueName('waiter');
  const record = (key: string, result: unknown = { key }) => recordOf(fn, key, { result });

  beforeAll(async () => {
    ({ redis, store, waiter } = await setUp());
  });
  afterAll(async () => {
    await waiter.close();
    await redis.quit();
  });

  it('answers a caller registered before the announcement without reading the record', async () => {
    const r = record('before');
    store.reads = 0;
    const waited = waiter.wait(fn, r.id, 5000, { fresh: true });
    await sleep(20);
    await store.put(r, true);
    expect(await waited).toEqual(r);
    expect(store.reads).toBe(0);
  });

  it('keeps an announcement that arrives before its caller registers', async () => {
    const r = record('early', 'x'.repeat(1000));
    store.reads = 0;
    await store.put(r, true);
    await sleep(100); // the announcement has arrived; nobody waited for it yet
    expect(await waiter.wait(fn, r.id, 5000, { fresh: true })).toEqual(r);
    expect(store.reads).toBe(0);
  });

  it('reads at once the record of an invocation that finished before the call (not announced)', async () => {
    const r = record('earlier');
    await store.put(r, false);
    await sleep(50);
    store.reads = 0;
    // A deadline before the once-a-second poll's first read: only the read at once can answer.
    expect(await waiter.wait(fn, r.id, 800, { fresh: false })).toEqual(r);
    expect(store.reads).toBe(1);
  });

  it('resolves undefined when nothing finishes in time', async () => {
    expect(await waiter.wait(fn, invocationId(fn, 'never'), 200, { fresh: true })).toBeUndefined();
  });
});

describe('ResultWaiter with a worker in the same process', () => {
  let redis: Redis;
  let store: CountingStore;
  let waiter: ResultWaiter;
  const fn = uniqueName('local');
  const record = (key: string, status: InvocationRecord['status'] = 'succeeded') =>
    recordOf(fn, key, { status });

  beforeAll(async () => {
    ({ redis, store, waiter } = await setUp({ deaf: true }));
  });
  afterAll(async () => {
    await waiter.close();
    await redis.quit();
  });

  // Deadlines below the once-a-second record poll: no read can answer these callers.
  it('answers its caller as the final record is sent, before Redis replies, with no announcement or read', async () => {
    const r = record('local');
    store.reads = 0;
    const order: string[] = [];
    const waited = waiter.wait(fn, r.id, 800, { fresh: true }).then((got) => {
      order.push('answered');
      return got;
    });
    await store.put(r, true).then(() => order.push('stored'));
    expect(await waited).toEqual(r);
    expect(order).toEqual(['answered', 'stored']);
    expect(store.reads).toBe(0);
    expect(await redis.get(`faas:inv:${r.id}`)).not.toBeNull();
  });

  it('answers with the outcome of the run that ended even when its write is refused (the job lock lapsed)', async () => {
    const r = record('lost');
    const lock = `faas:test-lock:${r.id}`;
    await redis.set(lock, 'new-owner', 'EX', 60);
    const waited = waiter.wait(fn, r.id, 500, { fresh: true });
    expect(await store.putIfOwner(r, lock, 'old-owner', true)).toBe(false);
    expect(await waited).toEqual(r);
    // The record is the new owner's to write.
    expect(await redis.get(`faas:inv:${r.id}`)).toBeNull();
    await redis.del(lock);
  });

  it('answers callers whose outcome was never announced from one read of all their records a round', async () => {
    // Recorded without announcement, as an announcement lost in a reconnect leaves them.
    const done = Array.from({ length: 30 }, (_, i) => record(`unheard-${i}`));
    const retrying = record('unheard-retrying', 'queued');
    store.reads = 0;
    store.batches = [];
    const waits = [...done, retrying].map((r) => waiter.wait(fn, r.id, 3500, { fresh: true }));
    for (const r of [...done, retrying]) await store.put(r, false);
    const got = await Promise.all(waits.slice(0, done.length));
    expect(got).toEqual(done);
    // The queued one is not an outcome: it is still waiting, and times out.
    expect(await waits[done.length]).toBeUndefined();
    expect(store.reads).toBe(0);
    // The first round read all 31 at once; later rounds only the one still waiting.
    expect(store.batches[0]).toHaveLength(31);
    expect(store.batches.slice(1).every((b) => b.length === 1 && b[0] === retrying.id)).toBe(true);
    expect(store.batches.length).toBeGreaterThanOrEqual(2);
  });

  it('does not answer from a record that is not final (a retry is queued) or not announced', async () => {
    const retrying = record('retrying', 'queued');
    const quiet = record('quiet');
    const a = waiter.wait(fn, retrying.id, 500, { fresh: true });
    const b = waiter.wait(fn, quiet.id, 500, { fresh: true });
    await store.put(retrying, true);
    await store.put(quiet, false);
    expect(await a).toBeUndefined();
    expect(await b).toBeUndefined();
  });
});
