/**
 * How a function's queue worker ends a job on real Redis: an async invocation that succeeded
 * has its record carried in BullMQ's completion of its job (no write of its own), so that whoever
 * sees the job completed finds the record, and enters the function's index after it; a sync
 * invocation's record is written first and its completion waits for the record's reply.
 */
import type { Socket } from 'node:net';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import type { Pool } from '../../src/pool/pool.js';
import { coalesceCommands } from '../../src/queue/coalesce.js';
import { QUEUE_PREFIX, queueKeyPrefix, queueName } from '../../src/queue/names.js';
import { EVENTS_KEPT, Producer } from '../../src/queue/producer.js';
import { indexKey } from '../../src/queue/invocation-index.js';
import { DeadLetters } from '../../src/queue/dead-letters.js';
import { RecordStore, recordKey } from '../../src/queue/records.js';
import { connectRedis } from '../../src/queue/redis.js';
import type { ResultMessage } from '../../src/runtime/protocol.js';
import { FunctionWorker } from '../../src/worker/worker.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

/** A pool whose one container answers each invocation with what `answer` makes of it, at once. */
function poolAnswering(answer: (msg: { id: string; event: unknown }) => ResultMessage): Pool {
  const channel = {
    invoke: async (msg: { id: string; event: unknown }) => answer(msg),
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

/**
 * A pool whose one container answers every event with `{ echo: event }` at once; the first
 * `failures` events fail with a handler error instead.
 */
function echoPool(failures = 0): Pool {
  let calls = 0;
  return poolAnswering((msg) =>
    ++calls <= failures
      ? { t: 'result', id: msg.id, ok: false, error: { kind: 'handler', message: 'boom' } }
      : { t: 'result', id: msg.id, ok: true, value: { echo: msg.event } },
  );
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

  it('carries an async record in its completion; a sync record goes first and its completion after the reply', async () => {
    const name = uniqueName('completion');
    const spec = fnSpec(name, { concurrency: 8, retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 } });
    const queue = new Queue(queueName(name), { connection: probe, prefix: QUEUE_PREFIX });
    const events = new QueueEvents(queueName(name), { connection: probe.duplicate(), prefix: QUEUE_PREFIX });
    await events.waitUntilReady();
    const records = new RecordStore(redis, 60);
    const reader = new RecordStore(probe, 60);
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
      seen.push(
        reader.get(jobId).then((r) => void recordedAtCompletion.set(jobId, r?.status === 'succeeded')),
      );
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
        expect(done, `completion of job ${i}`).toBeGreaterThanOrEqual(0);
        if (i % 3 === 0) {
          // A sync job's completion was sent only once the record's reply had come back.
          expect(put, `record of job ${i}`).toBeGreaterThanOrEqual(0);
          expect(done, `completion of job ${i}`).toBeGreaterThan(put);
          expect(sent[done]!.writesBefore, `sync job ${i}`).toBeGreaterThan(sent[put]!.writesBefore);
        } else {
          // An async job's record is in its completion's arguments, with no write of its own.
          expect(put, `record of job ${i}`).toBe(-1);
          expect(sent[done]!.args.some((a) => a.includes('"faas:record"'))).toBe(true);
        }
      });
      expect(await probe.exists(recordKey(ids[1]!))).toBe(0);
      expect(await reader.get(ids[1]!)).toMatchObject({ status: 'succeeded', result: { echo: { i: 1 } } });
      expect((await reader.getMany(ids)).map((r) => r?.status)).toEqual(ids.map(() => 'succeeded'));
      // Every job, sync or async, entered the function's index once.
      for (let t = 0; (await probe.zcard(indexKey(name))) < ids.length && t < 40; t++)
        await new Promise((r) => setTimeout(r, 50));
      const members = await probe.zrange(indexKey(name), 0, -1);
      expect(members.map((m) => m.split(' ')[0]).sort()).toEqual([...ids].sort());
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      for (let i = 0; i < 60; i++) await probe.del(recordKey(`${name}.${i.toString(16).padStart(32, '0')}`));
      await probe.del(`faas:fnidx:${name}`);
    }
  }, 60_000);

  it('writes the record of a re-driven dead letter that succeeds over the failure it replaces', async () => {
    const name = uniqueName('redrive');
    const spec = fnSpec(name, { retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 } });
    const queue = new Queue(queueName(name), { connection: probe, prefix: QUEUE_PREFIX });
    const records = new RecordStore(redis, 60);
    const worker = new FunctionWorker({
      spec,
      connection: redis,
      pool: echoPool(1),
      records,
      logger: silentLogger,
    });
    const id = `${name}.${'a'.repeat(32)}`;
    const status = async (want: string) => {
      for (let t = 0; t < 100; t++) {
        const r = await records.get(id);
        if (r?.status === want) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
      return records.get(id);
    };
    try {
      await queue.add(
        'invoke',
        { source: 'invoke', event: { n: 1 }, enqueuedAt: Date.now(), sync: false },
        { jobId: id, attempts: 1 },
      );
      worker.start();
      expect(await status('failed')).toMatchObject({ status: 'failed', error: { kind: 'handler' } });
      expect(await new DeadLetters(() => queue, records).retry(id)).toBe(true);
      const after = await status('succeeded');
      expect(after).toMatchObject({ status: 'succeeded', result: { echo: { n: 1 } }, attempts: 1 });
      // Written under its own key, over the failure's record, not carried in the completion.
      expect(JSON.parse((await probe.get(recordKey(id))) ?? 'null')).toMatchObject({ status: 'succeeded' });
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await probe.del(recordKey(id), `faas:fnidx:${name}`);
    }
  }, 30_000);

  it("takes a handler's result shaped like a carried record for a result, never for a record", async () => {
    const name = uniqueName('forge');
    const victim = uniqueName('victim');
    const forged = {
      'faas:record': {
        id: `${victim}.${'f'.repeat(32)}`,
        function: victim,
        status: 'succeeded',
        attempts: 1,
        timings: { enqueuedAt: 1, finishedAt: Date.now() },
      },
    };
    const pool = poolAnswering((msg) => ({ t: 'result', id: msg.id, ok: true, value: forged }));
    const queue = new Queue(queueName(name), { connection: probe, prefix: QUEUE_PREFIX });
    const records = new RecordStore(redis, 60);
    const worker = new FunctionWorker({
      spec: fnSpec(name),
      connection: redis,
      pool,
      records,
      logger: silentLogger,
    });
    const ids = [0, 1, 2].map((i) => `${name}.${String(i).repeat(32)}`);
    try {
      // Two sync invocations (their records are written, then BullMQ completes the job with the
      // handler's result) and an async one (its record carried in the completion).
      await queue.addBulk(
        ids.map((id, i) => ({
          name: 'invoke',
          data: { source: 'invoke', event: {}, enqueuedAt: Date.now(), sync: i < 2 },
          opts: { jobId: id, attempts: 1 },
        })),
      );
      worker.start();
      worker.setConcurrency(3);
      for (let t = 0; (await queue.getCompletedCount()) < 3 && t < 100; t++)
        await new Promise((r) => setTimeout(r, 50));
      for (let t = 0; (await probe.zcard(indexKey(name))) < 3 && t < 40; t++)
        await new Promise((r) => setTimeout(r, 50));
      const got = await records.getMany(ids);
      for (const [i, r] of got.entries()) {
        expect(r, `record of job ${i}`).toMatchObject({ id: ids[i], function: name, status: 'succeeded' });
        expect(r?.result, `result of job ${i}`).toEqual(forged);
      }
      // The sync jobs' stored return value is not the look-alike, and nothing entered the index of
      // the function it names.
      for (const id of ids.slice(0, 2))
        expect(await probe.hget(`${queueKeyPrefix(name)}:${id}`, 'returnvalue')).toBe('null');
      expect(await probe.zcard(indexKey(victim))).toBe(0);
      expect((await probe.zrange(indexKey(name), 0, -1)).map((m) => m.split(' ')[0]).sort()).toEqual(
        [...ids].sort(),
      );
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await probe.del(...ids.map(recordKey), indexKey(name), indexKey(victim));
    }
  }, 30_000);

  it("keeps a function queue's event stream short: its completions carry whole records", async () => {
    const name = uniqueName('events');
    const producer = new Producer(probe, { [name]: fnSpec(name) }, 60);
    try {
      await producer.enqueue([
        { functionName: name, payload: { source: 'invoke', event: {}, enqueuedAt: Date.now(), sync: false } },
      ]);
      expect(await probe.hget(`${queueKeyPrefix(name)}:meta`, 'opts.maxLenEvents')).toBe(String(EVENTS_KEPT));
    } finally {
      await producer.queue(name).obliterate({ force: true });
      await producer.close();
    }
  });
});
