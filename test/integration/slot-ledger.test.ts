/**
 * The cluster's ledger of containers (scale.max over every host) on the real Redis, single and
 * the local 3-master cluster (`npm run services:up` starts both): grants never pass max however
 * the hosts' calls interleave, a removed container's slot goes back, a host that stops renewing
 * its line loses its slots, and on a cluster the ledger shares its function's queue slot.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, queueName, useClusterKeys } from '../../src/queue/names.js';
import { RedisSlotLedger, slotKey } from '../../src/pool/slot-ledger.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';

const CLUSTER_URL =
  process.env.FAAS_TEST_REDIS_CLUSTER_URL ?? 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['a single Redis', config.REDIS_URL, false],
  ['a Redis Cluster', CLUSTER_URL, true],
])('the slot ledger on %s', (_, url, cluster) => {
  let redis: Redis;
  const ns = uniqueName('slots');
  const keys: string[] = [];
  const fn = (name: string) => {
    const f = uniqueName(name);
    keys.push(slotKey(ns, f));
    return f;
  };

  beforeAll(async () => {
    redis = await requireRedis(url);
    useClusterKeys(cluster);
  });

  afterAll(async () => {
    useClusterKeys(cluster);
    for (const k of keys) await redis.del(k);
    redis.disconnect();
    useClusterKeys(false);
  });

  it('names its key by the function’s queue: one hash slot with the queue on a cluster', async () => {
    const f = fn('name');
    expect(slotKey(ns, f)).toBe(cluster ? `faas:slots:${ns}:{fn.${f}}` : `faas:slots:${ns}:fn.${f}`);
    if (cluster) {
      const slot = (k: string) => redis.call('CLUSTER', 'KEYSLOT', k);
      expect(await slot(slotKey(ns, f))).toBe(await slot(`${QUEUE_PREFIX}:${queueName(f)}:wait`));
    }
  });

  it('hosts asking at once are granted max in all, never more', async () => {
    const f = fn('burst');
    const hosts = ['h1', 'h2', 'h3'].map((h) => new RedisSlotLedger(redis, ns, h));
    // Each host asks for one slot at a time, 10 times, all interleaved; each call sends its count.
    const held = [0, 0, 0];
    await Promise.all(
      hosts.map(async (ledger, i) => {
        for (let k = 0; k < 10; k++) {
          const a = await ledger.sync(f, { held: held[i] as number, want: 10, ask: 1, max: 7 });
          held[i] = (held[i] as number) + a.granted;
        }
      }),
    );
    expect(held.reduce((a, b) => a + b, 0)).toBe(7);
    const lines = await redis.hgetall(slotKey(ns, f));
    const counts = Object.values(lines).map((v) => Number(v.split(' ')[0]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('answers with the other hosts’ lines; a slot given back goes to the next asker', async () => {
    const f = fn('release');
    const a = new RedisSlotLedger(redis, ns, 'a');
    const b = new RedisSlotLedger(redis, ns, 'b');
    expect(await a.sync(f, { held: 0, want: 3, ask: 3, max: 3 })).toEqual({ granted: 3, others: [] });
    expect(await b.sync(f, { held: 0, want: 2, ask: 2, max: 3 })).toEqual({
      granted: 0,
      others: [{ host: 'a', count: 3, want: 3 }],
    });
    // a removed one container: its line is set to what it holds now.
    await a.sync(f, { held: 2, want: 3, ask: 0, max: 3 });
    expect(await b.sync(f, { held: 0, want: 2, ask: 2, max: 3 })).toEqual({
      granted: 1,
      others: [{ host: 'a', count: 2, want: 3 }],
    });
  });

  it('a host whose line lapses (it stopped renewing: dead) frees its slots', async () => {
    const f = fn('lapse');
    const dying = new RedisSlotLedger(redis, ns, 'dying', 300);
    const survivor = new RedisSlotLedger(redis, ns, 'survivor');
    expect((await dying.sync(f, { held: 0, want: 4, ask: 4, max: 4 })).granted).toBe(4);
    expect((await survivor.sync(f, { held: 0, want: 4, ask: 4, max: 4 })).granted).toBe(0);
    await sleep(400);
    expect(await survivor.sync(f, { held: 0, want: 4, ask: 4, max: 4 })).toEqual({ granted: 4, others: [] });
    expect(Object.keys(await redis.hgetall(slotKey(ns, f)))).toEqual(['survivor']);
  });

  it('an empty line with no want is removed, and the key with the last one; a live key lapses on its own', async () => {
    const f = fn('empty');
    const a = new RedisSlotLedger(redis, ns, 'a');
    await a.sync(f, { held: 0, want: 1, ask: 1, max: 2 });
    const ttl = await redis.pttl(slotKey(ns, f));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
    await a.sync(f, { held: 0, want: 0, ask: 0, max: 2 });
    expect(await redis.exists(slotKey(ns, f))).toBe(0);
  });

  it('a lower max (a deploy) grants nothing until the hosts are under it, and keeps their true counts', async () => {
    const f = fn('lower');
    const a = new RedisSlotLedger(redis, ns, 'a');
    await a.sync(f, { held: 0, want: 5, ask: 5, max: 5 });
    expect((await a.sync(f, { held: 5, want: 5, ask: 2, max: 3 })).granted).toBe(0);
    expect((await redis.hget(slotKey(ns, f), 'a'))?.split(' ')[0]).toBe('5');
    expect((await a.sync(f, { held: 2, want: 3, ask: 2, max: 3 })).granted).toBe(1);
  });
});
