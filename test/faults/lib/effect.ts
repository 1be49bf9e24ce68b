/**
 * What the function did (outputs and executions in its bucket), what the queue holds, and the
 * dead-letter set: the checks every fault scenario ends with.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { QUEUE_PREFIX, queueName } from '../../../src/queue/names.js';
import { requireRedis } from '../../helpers/services.js';
import type { Burst } from './senders.js';
import { sleep } from './wait.js';

export async function listObjects(
  s3: S3Client,
  Bucket: string,
  Prefix = '',
): Promise<Array<{ key: string; modified: number }>> {
  const found: Array<{ key: string; modified: number }> = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? [])
      found.push({ key: o.Key as string, modified: o.LastModified?.getTime() ?? 0 });
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** What the function did: its outputs (input keys), when the last one landed, its executions. */
export interface Effect {
  outputs: string[];
  lastOutputAt: number;
  /** Executions that reached the handler (`runs/` objects). */
  executions: number;
  /** Executions beyond the first of each input. */
  duplicates: number;
}

/** The effect on inputs whose keys start with `prefix`. */
export async function readEffect(s3: S3Client, bucket: string, prefix = ''): Promise<Effect> {
  const out = await listObjects(s3, bucket, `out/${prefix}`);
  const runs = await listObjects(s3, bucket, `runs/${prefix}`);
  const executed = new Set(runs.map((r) => r.key.slice('runs/'.length, r.key.lastIndexOf('/'))));
  return {
    outputs: out.map((o) => o.key.slice('out/'.length)).sort(),
    lastOutputAt: Math.max(0, ...out.map((o) => o.modified)),
    executions: runs.length,
    duplicates: runs.length - executed.size,
  };
}

export type JobCounts = Record<
  'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed',
  number
>;

/** A function queue's job counts, on a fresh connection (works across a Redis restart). */
export async function jobCounts(fn: string): Promise<JobCounts> {
  const redis = await requireRedis();
  const queue = new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      prioritized: c.prioritized ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/**
 * Waits until the queue is idle and every input has an output or a dead letter. On timeout it
 * returns what it saw (the test's exact comparison then names what is missing).
 */
export async function settle(
  s3: S3Client,
  bucket: string,
  fn: string,
  o: { prefix?: string; expected: number; timeoutMs: number },
): Promise<{ effect: Effect; counts: JobCounts; settled: boolean }> {
  const { prefix = '', expected, timeoutMs } = o;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await jobCounts(fn).catch(() => undefined);
    const effect = await readEffect(s3, bucket, prefix).catch(() => undefined);
    const idle = counts && counts.waiting + counts.active + counts.delayed + counts.prioritized === 0;
    if (counts && effect && idle && effect.outputs.length + counts.failed >= expected)
      return { effect, counts, settled: true };
    if (Date.now() > deadline)
      return {
        effect: effect ?? (await readEffect(s3, bucket, prefix)),
        counts: counts ?? (await jobCounts(fn)),
        settled: false,
      };
    await sleep(200);
  }
}

export interface DeadLetterView {
  id: string;
  attempts: number;
  error?: { kind: string; message: string };
  event: { source: string; event?: { key?: string }; record?: { s3: { object: { key: string } } } };
}

/** The platform's dead-letter set of one function (`GET /dlq`). */
export async function deadLetters(url: string, fn: string): Promise<DeadLetterView[]> {
  const res = await fetch(`${url}/dlq?function=${fn}&limit=1000`);
  if (res.status !== 200) throw new Error(`GET /dlq answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as DeadLetterView[];
}

export function deadLetterKey(d: DeadLetterView): string | undefined {
  return d.event.event?.key ?? d.event.record?.s3.object.key;
}

export async function createBuckets(s3: S3Client, names: string[]): Promise<void> {
  for (const Bucket of names) await s3.send(new CreateBucketCommand({ Bucket }));
}

export async function deleteBuckets(s3: S3Client, names: string[]): Promise<void> {
  for (const Bucket of names) {
    const keys = (await listObjects(s3, Bucket).catch(() => [])).map((o) => o.key);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
        }),
      );
    }
    await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
  }
}

/** How many of these jobs BullMQ found stalled (their worker died) and moved back to wait. */
export async function stalledJobs(fn: string, ids: string[]): Promise<number> {
  const redis = await requireRedis();
  try {
    const counters = await Promise.all(
      ids.map((id) => redis.hget(`${QUEUE_PREFIX}:${queueName(fn)}:${id}`, 'stc')),
    );
    return counters.filter((c) => Number(c) > 0).length;
  } finally {
    redis.disconnect();
  }
}

/** Inputs without an output, each with when it was accepted relative to `t0` (for the report). */
export function missing(burst: Burst, effect: Effect, t0: number): string {
  const have = new Set(effect.outputs);
  return [...burst.acceptedAt]
    .filter(([k]) => !have.has(k))
    .map(([k, at]) => `${k}@${((at - t0) / 1000).toFixed(1)}s`)
    .join(',');
}
