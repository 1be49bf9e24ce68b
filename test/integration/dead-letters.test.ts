/**
 * Re-driving every dead letter on real Redis while a worker fails each job again at once: each
 * dead letter is re-driven exactly once per request, and the request ends.
 */
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetters } from '../../src/queue/dead-letters.js';
import { QUEUE_PREFIX, invocationId, queueName } from '../../src/queue/names.js';
import { RecordStore } from '../../src/queue/records.js';
import { eventually } from '../helpers/platform.js';
import { config, requireRedis } from '../helpers/services.js';
import type { Redis } from 'ioredis';

const FN = `poison-${Math.random().toString(36).slice(2, 8)}`;
const N = 120;

describe('DeadLetters.retryAll', () => {
  let redis: Redis;
  let queue: Queue;
  let worker: Worker;
  let runs = 0;

  beforeAll(async () => {
    redis = await requireRedis();
    const url = new URL(config.REDIS_URL);
    const connection = { host: url.hostname, port: Number(url.port || 6379) };
    queue = new Queue(queueName(FN), { connection, prefix: QUEUE_PREFIX });
    worker = new Worker(
      queueName(FN),
      async (): Promise<void> => {
        runs++;
        throw new UnrecoverableError('poison');
      },
      { connection, prefix: QUEUE_PREFIX, concurrency: 20 },
    );
    await queue.addBulk(
      Array.from({ length: N }, (_, i) => ({
        name: 'invoke',
        data: { i },
        opts: { jobId: invocationId(FN), attempts: 1 },
      })),
    );
    await eventually('every job dead-lettered', async () =>
      (await queue.getFailedCount()) === N ? true : undefined,
    );
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
  });

  it('re-drives a snapshot of the dead letters, each once, while they fail again at once', async () => {
    const dlq = new DeadLetters(() => queue, new RecordStore(redis, 60));
    const before = runs;
    const ids = await dlq.retryAll([FN]);
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    // Each ran once more and is a dead letter again: nothing was re-driven twice.
    await eventually('all failed again', async () =>
      (await queue.getFailedCount()) === N && runs - before === N ? true : undefined,
    );
    expect(runs - before).toBe(N);
  });
});
