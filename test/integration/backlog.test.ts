/**
 * The autoscaler's batched backlog read (real Redis; `npm run test:cluster` runs it on the
 * 3-master cluster too, where it reads function by function): the same figures as BullMQ's own
 * counts and oldest job, for waiting, prioritized, delayed and active jobs, in the order asked.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBacklogs } from '../../src/queue/backlog.js';
import { bullmqBacklog } from '../helpers/backlog.js';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { requireRedis, uniqueName } from '../helpers/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('readBacklogs', () => {
  let redis: Redis;
  const fns = ['plain', 'prio', 'empty', 'busy'].map((k) => uniqueName(`backlog-${k}`));
  const [plain, prio, , busy] = fns as [string, string, string, string];
  const queues = new Map<string, Queue>();
  let worker: Worker | undefined;
  const queue = (fn: string) => {
    let q = queues.get(fn);
    if (!q) queues.set(fn, (q = new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX })));
    return q;
  };

  beforeAll(async () => {
    redis = await requireRedis();
    await queue(plain).add('a', { n: 1 });
    await sleep(40);
    await queue(plain).addBulk([
      { name: 'b', data: { n: 2 } },
      { name: 'c', data: { n: 3 } },
    ]);
    await queue(plain).add('later', {}, { delay: 60_000 });
    await queue(prio).add('p1', {}, { priority: 5 });
    await sleep(20);
    await queue(prio).add('p2', {}, { priority: 1 });
    await queue(busy).add('running', {});
    // Taken by hand: the job sits in the active list while the test reads.
    worker = new Worker(queueName(busy), null, {
      connection: redis.duplicate(),
      prefix: QUEUE_PREFIX,
      autorun: false,
    });
    const job = await worker.getNextJob('test-token');
    expect(job?.name).toBe('running');
  });

  afterAll(async () => {
    await worker?.close();
    for (const q of queues.values()) {
      await q.obliterate({ force: true });
      await q.close();
    }
    await redis.quit();
  });

  it('gives the figures BullMQ gives, function by function, in the order asked', async () => {
    const now = Date.now();
    const batched = await readBacklogs(redis, fns, now);
    const one = await Promise.all(fns.map((fn) => bullmqBacklog(queue(fn), now)));
    expect(batched).toEqual(one);
    const [p, q, e, b] = batched;
    expect(p).toMatchObject({ waiting: 3, active: 0, delayed: 1 });
    // The oldest of the three waiting jobs, added 40 ms before the others.
    expect(p?.oldestWaitMs).toBeGreaterThanOrEqual(40);
    expect(q).toMatchObject({ waiting: 2, active: 0, delayed: 0 });
    expect(q?.oldestWaitMs).toBeGreaterThan(0);
    expect(e).toEqual({ waiting: 0, active: 0, delayed: 0, oldestWaitMs: 0 });
    expect(b).toEqual({ waiting: 0, active: 1, delayed: 0, oldestWaitMs: 0 });
  });

  it('keeps the order across the script calls a long list takes (250 functions a call)', async () => {
    const many = Array.from({ length: 600 }, (_, i) => uniqueName(`backlog-many-${i}`));
    // A waiting job in the first and the last function, a delayed one in the 251st.
    for (const [i, delay] of [
      [0, 0],
      [599, 0],
      [250, 60_000],
    ] as const)
      await queue(many[i] as string).add('one', {}, delay ? { delay } : {});
    const got = await readBacklogs(redis, many, Date.now());
    expect(got).toHaveLength(600);
    const busy = got.flatMap((b, i) => (b.waiting + b.delayed > 0 ? [[i, b.waiting, b.delayed]] : []));
    expect(busy).toEqual([
      [0, 1, 0],
      [250, 0, 1],
      [599, 1, 0],
    ]);
  });

  it('reads nothing for no functions', async () => {
    expect(await readBacklogs(redis, [], Date.now())).toEqual([]);
  });
});
