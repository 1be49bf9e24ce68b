/**
 * A function's queue worker on real Redis: how long it has been free to take a job and taken
 * none (what the dispatcher reads to find a wedged worker), and a close that returns promptly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/observability/logger.js';
import type { Pool } from '../../src/pool/pool.js';
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
});
