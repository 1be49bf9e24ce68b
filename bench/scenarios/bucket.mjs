/**
 * Bucket events end to end: PutObject returned → handler started, and sustained uploads with
 * every one processed. Events travel MinIO → its webhook target (127.0.0.1:8080) → platform →
 * queue → warm container; the handler returns its start time (host clock).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { now, sleep, waitFor } from '../lib/clock.mjs';
import { bounded } from '../lib/http.mjs';
import { finishedCount, lastFinishedAt } from '../lib/redis.mjs';
import { quantile } from '../lib/stats.mjs';

/**
 * @typedef {{ s3: import('@aws-sdk/client-s3').S3Client, bucket: string,
 *   redis: import('ioredis').Redis, queueKey: string }} BucketCtx
 */

/**
 * One repetition: `trickle` uploads one at a time, 100–200 ms apart (not waiting for each to be
 * processed, so they land at every phase of MinIO's delivery cycle), then `sustained` uploads
 * `concurrency` at once; resolves once every upload has been processed.
 * @param {BucketCtx} c
 * @param {{ rep: number, trickle: number, sustained: number, concurrency: number }} o
 */
export async function bucketRep(c, o) {
  /** @type {Map<string, number>} */
  const putAt = new Map();
  /** @type {number[]} how long each single upload's PutObject took */
  const putMs = [];
  const put = async (/** @type {string} */ key) => {
    const t = now();
    await c.s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: `bench ${key}\n` }));
    putAt.set(key, now());
    if (key.startsWith('lat/')) putMs.push(now() - t);
  };
  const processed = (/** @type {number} */ n, /** @type {string} */ what) =>
    waitFor(what, async () => ((await finishedCount(c.redis, c.queueKey)).total >= n ? true : undefined), {
      everyMs: 20,
      timeoutMs: 120_000,
    });
  let expected = (await finishedCount(c.redis, c.queueKey)).total;
  for (let i = 0; i < o.trickle; i++) {
    await put(`lat/${o.rep}/${i}.txt`);
    await sleep(100 + Math.random() * 100);
  }
  expected += o.trickle;
  await processed(expected, `${o.trickle} single uploads to be processed`);
  if (o.sustained === 0) return { putAt, putMs, uploadsPerS: NaN };
  const t0 = now();
  await bounded(o.sustained, o.concurrency, (i) => put(`bulk/${o.rep}/${i}.txt`));
  expected += o.sustained;
  await processed(expected, `${o.sustained} uploads to be processed`);
  const end = await lastFinishedAt(c.redis, c.queueKey);
  return { putAt, putMs, uploadsPerS: o.sustained / ((end - t0) / 1000) };
}

/**
 * Handler start times by object key, from the finished jobs' return values.
 * @param {import('ioredis').Redis} redis
 * @param {string} prefix
 * @param {string} name
 */
export async function handlerStarts(redis, prefix, name) {
  const connection = redis.duplicate();
  connection.on('error', () => undefined);
  const q = new Queue(name, { connection, prefix });
  try {
    /** @type {Map<string, number>} */
    const starts = new Map();
    const failed = await q.getJobCountByTypes('failed');
    for (let from = 0; ; from += 500) {
      const jobs = await q.getJobs(['completed'], from, from + 499);
      for (const j of jobs) {
        // An async invocation's completion carries its record, the handler's value its result.
        const value = j.returnvalue?.['faas:record']?.result ?? j.returnvalue;
        for (const k of value?.keys ?? []) starts.set(k, value.startedAt);
      }
      if (jobs.length < 500) break;
    }
    return { starts, failed };
  } finally {
    await q.close();
    connection.disconnect();
  }
}

/**
 * put → start latencies (ms) of the keys with a prefix.
 * @param {Map<string, number>} putAt
 * @param {Map<string, number>} starts
 * @param {string} prefix
 */
export function putToStart(putAt, starts, prefix) {
  const ms = [];
  let missing = 0;
  for (const [key, t] of putAt) {
    if (!key.startsWith(prefix)) continue;
    const s = starts.get(key);
    if (s === undefined) missing++;
    else ms.push(s - t);
  }
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), n: ms.length, missing };
}
