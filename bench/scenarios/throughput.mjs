/** Async invocations per second through the platform, and raw BullMQ no-op jobs for comparison. */
import { Queue, Worker } from 'bullmq';
import { now, waitFor } from '../lib/clock.mjs';
import { bounded, call, invoke } from '../lib/http.mjs';
import { connect, finishedCount, lastFinishedAt, usedMemory } from '../lib/redis.mjs';

/**
 * `total` async invokes at `concurrency` at once; the rate counts from the first request to the
 * last job finished (the newest score in the queue's completed set). Against the platform, or the
 * baseline server (which has no `rssMb`: its peak RSS is not sampled). With `batch`, the events
 * go `batch` at a time to `POST /functions/:name/invocations`, one request after another, as raw
 * BullMQ's jobs go by addBulk (`concurrency` is not used then).
 * @param {{ url: string, rssMb?: () => Promise<number> }} p
 * @param {string} fn
 * @param {{ total: number, concurrency: number, redis: import('ioredis').Redis, queueKey: string, batch?: number }} o
 */
export async function platformThroughput(p, fn, o) {
  const before = await finishedCount(o.redis, o.queueKey);
  const memBefore = await usedMemory(o.redis);
  const rssMb = p.rssMb;
  let peakRss = rssMb ? await rssMb() : 0;
  const sampler = setInterval(() => {
    rssMb?.().then(
      (mb) => (peakRss = Math.max(peakRss, mb)),
      () => undefined,
    );
  }, 100);
  const t0 = now();
  let refused = 0;
  /** @type {Record<string, number>} why invokes were not accepted: HTTP status and message, or client error */
  const refusals = {};
  const refuse = (/** @type {string} */ why) => {
    refused++;
    refusals[why] = (refusals[why] ?? 0) + 1;
  };
  try {
    if (o.batch) await postBatches(p.url, fn, o.total, o.batch, refuse);
    else
      await bounded(o.total, o.concurrency, async () => {
        const r = await invoke(p.url, fn, {}, { async: true }).catch((/** @type {Error} */ err) => {
          refuse(`client: ${err.message}`);
          return undefined;
        });
        if (r && r.status !== 202) refuse(`${r.status} ${r.body.slice(0, 160)}`);
      });
    await waitFor(
      `${o.total} invocations of ${fn} to finish`,
      async () =>
        (await finishedCount(o.redis, o.queueKey)).total >= before.total + o.total - refused
          ? true
          : undefined,
      { timeoutMs: 300_000, everyMs: 50 },
    );
  } finally {
    clearInterval(sampler);
  }
  const end = await lastFinishedAt(o.redis, o.queueKey);
  const after = await finishedCount(o.redis, o.queueKey);
  return {
    perSecond: (o.total - refused) / ((end - t0) / 1000),
    peakRssMb: peakRss,
    refused,
    refusals,
    failed: after.failed - before.failed,
    redisBytesPerInvocation: ((await usedMemory(o.redis)) - memBefore) / o.total,
  };
}

/**
 * `total` events in requests of `size`, one after another; an unaccepted request refuses all its events.
 * @param {string} base
 * @param {string} fn
 * @param {number} total
 * @param {number} size
 * @param {(why: string) => void} refuse
 */
async function postBatches(base, fn, total, size, refuse) {
  for (let i = 0; i < total; i += size) {
    const n = Math.min(size, total - i);
    const body = JSON.stringify({ events: Array.from({ length: n }, () => ({})) });
    const r = await call('POST', `${base}/functions/${fn}/invocations`, body).catch(
      (/** @type {Error} */ err) => ({ status: 0, body: `client: ${err.message}` }),
    );
    if (r.status !== 202) for (let k = 0; k < n; k++) refuse(`${r.status} ${r.body.slice(0, 160)}`);
  }
}

/**
 * Raw BullMQ on the same Redis: a no-op Worker (concurrency 50) in this process, jobs added with
 * addBulk in chunks of 1,000, the same retention options as the platform's jobs.
 * @param {string} redisUrl
 * @param {{ prefix: string, name: string }} q
 */
export async function rawBullmq(redisUrl, q) {
  const connection = connect(redisUrl);
  const queue = new Queue(q.name, { connection, prefix: q.prefix });
  let done = 0;
  let target = Infinity;
  /** @type {() => void} */
  let wake = () => undefined;
  const workerConnection = connection.duplicate();
  workerConnection.on('error', () => undefined);
  const worker = new Worker(q.name, async () => null, {
    connection: workerConnection,
    prefix: q.prefix,
    concurrency: 50,
  });
  worker.on('completed', () => {
    if (++done >= target) wake();
  });
  await worker.waitUntilReady();
  const opts = { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };
  return {
    /** @param {number} total */
    async run(total) {
      done = 0;
      target = total;
      const finished = new Promise((resolve) => (wake = () => resolve(undefined)));
      const t0 = now();
      for (let i = 0; i < total; i += 1000) {
        const n = Math.min(1000, total - i);
        await queue.addBulk(
          Array.from({ length: n }, () => ({ name: 'noop', data: { enqueuedAt: Date.now() }, opts })),
        );
      }
      await finished;
      const end = await lastFinishedAt(connection, `${q.prefix}:${q.name}`);
      return total / ((end - t0) / 1000);
    },
    async close() {
      await worker.close();
      await queue.close();
      workerConnection.disconnect();
      connection.disconnect();
    },
  };
}
