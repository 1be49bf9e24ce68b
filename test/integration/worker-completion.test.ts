/**
 * How a function's queue worker ends a job on real Redis: an async invocation's record and
 * BullMQ's completion of its job leave in one write, the record first, so that whoever sees the
 * job completed finds the record; a sync invocation's completion waits for the record's reply.
 */
import type { Socket } from 'node:net';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import type { Pool } from '../../src/pool/pool.js';
import { coalesceCommands } from '../../src/queue/coalesce.js';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { RecordStore, recordKey } from '../../src/queue/records.js';
import { connectRedis } from '../../src/queue/redis.js';
import type { ResultMessage } from '../../src/runtime/protocol.js';
import { FunctionWorker } from '../../src/worker/worker.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

/** A pool whose one container answers every event with `{ echo: event }` at once. */
function echoPool(): Pool {
  const channel = {
    invoke: async (msg: { id: string; event: unknown }): Promise<ResultMessage> => ({
      t: 'result',
      id: msg.id,
      ok: true,
      value: { echo: msg.event },
    }),
    abandon: () => undefined,
  };
  return {
    lease: async (spec: unknown) => ({
      container: { channel, name: 'c-test' },
      spec,
      cold: false,
      prewarmed: false,
    }),
    release: () => undefined,
    kill: async () => undefined,
  } as unknown as Pool;
}

/** Each command sent on `redis`, with the socket writes made before it was sent. */
function watchCommands(redis: Redis): Array<{ name: string; args: string[]; writesBefore: number }> {
  const sent: Array<{ name: string; args: string[]; writesBefore: number }> = [];
  let writes = 0;
  const stream = (redis as unknown as { stream: Socket }).stream;
  const s = stream as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  for (const k of ['_write', '_writev'] as const) {
    const orig = s[k].bind(stream);
    s[k] = (...a: unknown[]) => {
      writes++;
      return orig(...a);
    };
  }
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
    sent.push({ name: command.name, args: command.args.map(String), writesBefore: writes });
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as Redis['sendCommand'];
  return sent;
}

describe('FunctionWorker ending a job', () => {
  let redis: Redis;
  let probe: Redis;
  beforeAll(async () => {
    probe = await requireRedis();
    redis = connectRedis(config.REDIS_URL);
    coalesceCommands(redis);
    await redis.ping();
  });
  afterAll(async () => {
    await redis.quit();
    await probe.quit();
  });

  it('sends an async record and its completion in one write, record first; a sync completion after the reply', async () => {
    const name = uniqueName('completion');
    const spec = fnSpec(name, { concurrency: 8, retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 } });
    const queue = new Queue(queueName(name), { connection: probe, prefix: QUEUE_PREFIX });
    const events = new QueueEvents(queueName(name), { connection: probe.duplicate(), prefix: QUEUE_PREFIX });
    await events.waitUntilReady();
    const records = new RecordStore(redis, 60);
    const worker = new FunctionWorker({
      spec,
      connection: redis,
      pool: echoPool(),
      records,
      logger: silentLogger,
    });
    const sent = watchCommands(redis);
    /** Whether each job's record was in Redis when its completion was seen. */
    const recordedAtCompletion = new Map<string, boolean>();
    const seen: Array<Promise<void>> = [];
    events.on('completed', ({ jobId }) => {
      seen.push(probe.exists(recordKey(jobId)).then((n) => void recordedAtCompletion.set(jobId, n === 1)));
    });
    try {
      const ids = Array.from({ length: 60 }, (_, i) => `${name}.${i.toString(16).padStart(32, '0')}`);
      const payload = (i: number) => ({
        source: 'invoke',
        event: { i },
        enqueuedAt: Date.now(),
        sync: i % 3 === 0,
      });
      await queue.addBulk(
        ids.map((id, i) => ({ name: 'invoke', data: payload(i), opts: { jobId: id, attempts: 1 } })),
      );
      worker.start();
      worker.setConcurrency(8);
      for (let t = 0; recordedAtCompletion.size < ids.length && t < 200; t++)
        await new Promise((r) => setTimeout(r, 50));
      await Promise.all(seen);
      expect([...recordedAtCompletion.values()].filter(Boolean)).toHaveLength(ids.length);

      ids.forEach((id, i) => {
        const put = sent.findIndex((c) => c.name === 'eval' && c.args.includes(recordKey(id)));
        const done = sent.findIndex(
          (c) => c.name === 'evalsha' && c.args.includes(id) && c.args.some((a) => a.endsWith(':completed')),
        );
        expect(put, `record of job ${i}`).toBeGreaterThanOrEqual(0);
        expect(done, `completion of job ${i}`).toBeGreaterThan(put);
        const sync = i % 3 === 0;
        // No write reached the socket between the two: they left together. A sync job's
        // completion was sent only once the record's reply had come back.
        if (sync) expect(sent[done]!.writesBefore, `sync job ${i}`).toBeGreaterThan(sent[put]!.writesBefore);
        else expect(sent[done]!.writesBefore, `async job ${i}`).toBe(sent[put]!.writesBefore);
      });
      const record = JSON.parse((await probe.get(recordKey(ids[1]!))) as string) as {
        status: string;
        result: unknown;
      };
      expect(record).toMatchObject({ status: 'succeeded', result: { echo: { i: 1 } } });
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      for (let i = 0; i < 60; i++) await probe.del(recordKey(`${name}.${i.toString(16).padStart(32, '0')}`));
      await probe.del(`faas:fnidx:${name}`);
    }
  }, 60_000);
});
