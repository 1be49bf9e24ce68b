/** Redis access for the benchmarks: completion counts of a BullMQ queue, and cleaning up after a run. */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** @param {string} url */
export function connect(url) {
  const r = new Redis(url, { maxRetriesPerRequest: null });
  r.on('error', () => undefined);
  return r;
}

/**
 * Finished jobs (completed, failed) of a queue, straight from its sorted sets.
 * @param {Redis} redis
 * @param {string} base the queue's key prefix, e.g. `faas:fn.noop`
 */
export async function finishedCount(redis, base) {
  const [c, f] = await Promise.all([redis.zcard(`${base}:completed`), redis.zcard(`${base}:failed`)]);
  return { completed: c, failed: f, total: c + f };
}

/**
 * Epoch ms of the last job to finish: the score of the newest member of the completed set.
 * @param {Redis} redis
 * @param {string} base
 */
export async function lastFinishedAt(redis, base) {
  const [, score] = await redis.zrevrange(`${base}:completed`, 0, 0, 'WITHSCORES');
  return Number(score);
}

/**
 * Deletes a BullMQ queue with every job, then any key left under its name.
 * @param {Redis} redis
 * @param {string} prefix BullMQ prefix (`faas`)
 * @param {string} name queue name (`fn.noop`)
 */
export async function dropQueue(redis, prefix, name) {
  const connection = redis.duplicate();
  connection.on('error', () => undefined);
  const q = new Queue(name, { connection, prefix });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
    connection.disconnect();
  }
  return unlinkMatching(redis, `${prefix}:${name}:*`);
}

/**
 * Removes every key matching a pattern (SCAN, never KEYS); returns how many.
 * @param {Redis} redis
 * @param {string} pattern
 */
export async function unlinkMatching(redis, pattern) {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

/**
 * Bytes Redis holds now (INFO memory used_memory).
 * @param {Redis} redis
 */
export async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}
