/**
 * Queued work is announced on the work channel, at most once per window per function: the first
 * job of a burst at once, the rest once at the window's end, after the last of them was queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ANNOUNCE_WINDOW_MS, Producer } from '../../src/queue/producer.js';
import { RecordStore, RESULTS_CHANNEL } from '../../src/queue/records.js';
import { queueName, WORK_CHANNEL } from '../../src/queue/names.js';
import { connectRedisFailFast } from '../../src/queue/redis.js';
import { fnSpec } from '../helpers/spec.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';
import { recordOf } from '../helpers/records.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work announcements', () => {
  let redis: Redis;
  let subscriber: Redis;
  const heard: Array<{ fn: string; at: number }> = [];
  beforeAll(async () => {
    redis = await requireRedis();
    subscriber = await requireRedis();
    subscriber.on('message', (_c: string, fn: string) => heard.push({ fn, at: Date.now() }));
    await subscriber.subscribe(WORK_CHANNEL);
  });
  afterAll(async () => {
    await subscriber.quit();
    await redis.quit();
  });

  it('announces a burst twice (at once and after its last job), and each function on its own', async () => {
    const a = uniqueName('ann-a');
    const b = uniqueName('ann-b');
    const ingest = connectRedisFailFast(config.REDIS_URL);
    await new Promise((resolve) => ingest.once('ready', resolve));
    const producer = new Producer(ingest, { [a]: fnSpec(a), [b]: fnSpec(b) }, 60);
    const event = (fn: string, i: number) => ({
      functionName: fn,
      dedupKey: `k${i}`,
      payload: { source: 'invoke' as const, event: { i }, enqueuedAt: Date.now(), sync: false },
    });
    try {
      // Ten jobs queued at once: the first announced at once, the others once at the window's end.
      const began = Date.now();
      await Promise.all(Array.from({ length: 10 }, (_, i) => producer.enqueue([event(a, i)])));
      await producer.enqueue([event(b, 0)]);
      await sleep(ANNOUNCE_WINDOW_MS * 3);
      const ofA = heard.filter((h) => h.fn === a);
      const ofB = heard.filter((h) => h.fn === b);
      expect(ofA).toHaveLength(2);
      expect((ofA[1] as { at: number }).at - began).toBeGreaterThanOrEqual(ANNOUNCE_WINDOW_MS - 1);
      expect(ofB).toHaveLength(1);
      expect(await redis.llen(`faas:${queueName(a)}:wait`)).toBe(10);
      // A job after the window is announced at once again.
      await producer.enqueue([event(a, 99)]);
      await sleep(20);
      expect(heard.filter((h) => h.fn === a)).toHaveLength(3);
    } finally {
      await producer.close();
      for (const fn of [a, b]) {
        const keys = await redis.keys(`*${queueName(fn)}*`);
        if (keys.length) await redis.del(...keys);
      }
      await ingest.quit();
    }
  });
});

describe('results announcements', () => {
  it('announces the final record of an invocation a caller waits for, and not of the others', async () => {
    const redis = await requireRedis();
    const subscriber = await requireRedis();
    const heard: string[] = [];
    subscriber.on('message', (_c: string, m: string) => heard.push(m));
    await subscriber.subscribe(RESULTS_CHANNEL);
    const fn = uniqueName('ann-rec');
    const record = (key: string) => recordOf(fn, key);
    try {
      const store = new RecordStore(redis, 60);
      const waited = record('sync');
      const unwaited = record('async');
      await store.put(unwaited, false);
      await store.put(waited, true);
      await sleep(100);
      const mine = heard.filter((m) => m.startsWith(`${fn}.`));
      expect(mine).toEqual([`${waited.id}\n${JSON.stringify(waited)}`]);
      // Both are recorded all the same.
      expect((await store.get(unwaited.id))?.result).toEqual({ key: 'async' });
      expect((await store.get(waited.id))?.result).toEqual({ key: 'sync' });
    } finally {
      await subscriber.quit();
      await redis.quit();
    }
  });
});
