/**
 * A function's queue worker on real Redis: how long it has been free to take a job and taken
 * none (what the dispatcher reads to find a wedged worker), a close that returns promptly, and
 * how many jobs it takes at once as it starts.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/observability/logger.js';
import type { Pool } from '../../src/pool/pool.js';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { RecordStore } from '../../src/queue/records.js';
import { connectRedis } from '../../src/queue/redis.js';
import { FunctionWorker } from '../../src/worker/worker.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FunctionWorker on real Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    (await requireRedis()).disconnect();
    redis = connectRedis(config.REDIS_URL);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('counts the time it is free and takes nothing, from its last chance to take a job', async () => {
    const spec = fnSpec(uniqueName('quiet'));
    const worker = new FunctionWorker({
      spec,
      connection: redis,
      // No job is queued: the pool is never asked for a container.
      pool: {} as Pool,
      records: new RecordStore(redis, 60),
      logger: silentLogger,
    });
    worker.start();
    await sleep(300);
    const quiet = worker.takesNothingFor();
    expect(quiet).toBeGreaterThanOrEqual(250);
    // More room to take jobs is a new chance: the count starts again.
    worker.setConcurrency(3);
    expect(worker.takesNothingFor()).toBeLessThan(quiet);
    expect(worker.takesNothingFor()).toBeLessThan(50);
    // Paused by its host, it may take nothing: never counted as quiet.
    worker.pause();
    await sleep(100);
    expect(worker.takesNothingFor()).toBe(0);
    worker.resume();
    expect(worker.takesNothingFor()).toBeLessThan(50);
    const t0 = Date.now();
    await worker.close();
    // Nothing held and a healthy Redis: the graceful close ends at once, not at its deadline.
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it.each([
    ['none given', undefined, 1],
    ['the pool has 4 slots', () => 4, 4],
    ['the pool has no slot yet', () => 0, 1],
  ])('takes as many jobs at once as it starts with (%s)', async (_label, start, held) => {
    const spec = fnSpec(uniqueName('start'), {
      concurrency: 4,
      retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 },
    });
    const queue = new Queue(queueName(spec.name), { connection: redis, prefix: QUEUE_PREFIX });
    /** Invocations running now, each finished by calling its entry. */
    const running: Array<() => void> = [];
    let peak = 0;
    const channel = {
      invoke: (msg: { id: string }) =>
        new Promise((resolve) => {
          running.push(() => resolve({ t: 'result', id: msg.id, ok: true, value: null }));
          peak = Math.max(peak, running.length);
        }),
      abandon: () => undefined,
    };
    const pool = {
      lease: async (s: unknown) => ({
        container: { channel, name: 'c-test' },
        spec: s,
        cold: false,
        prewarmed: false,
      }),
      release: () => undefined,
      kill: async () => undefined,
    } as unknown as Pool;
    const worker = new FunctionWorker({
      spec,
      connection: redis,
      pool,
      startConcurrency: start,
      records: new RecordStore(redis, 60),
      logger: silentLogger,
    });
    try {
      await queue.addBulk(
        Array.from({ length: 6 }, (_, i) => ({
          name: 'invoke',
          data: { source: 'invoke', event: { i }, enqueuedAt: Date.now(), sync: false },
          opts: { attempts: 1 },
        })),
      );
      worker.start();
      for (let t = 0; running.length < held && t < 100; t++) await sleep(20);
      // Nothing raises its concurrency here (no autoscaler): what it holds is what it started with.
      await sleep(300);
      expect(running).toHaveLength(held);
      for (let done = 0; done < 6;) {
        const batch = running.splice(0);
        batch.forEach((finish) => finish());
        done += batch.length;
        for (let t = 0; done < 6 && running.length === 0 && t < 100; t++) await sleep(20);
      }
      expect(peak).toBe(held);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
