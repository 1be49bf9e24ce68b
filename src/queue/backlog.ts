import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { queueKeyPrefix } from './names.js';

export interface Backlog {
  /** Waiting and prioritized jobs. */
  waiting: number;
  active: number;
  /** Jobs waiting out a retry backoff. */
  delayed: number;
  /** Age of the oldest waiting job; 0 when none waits. */
  oldestWaitMs: number;
}

/**
 * Functions' queue backlogs: waiting and prioritized jobs together (prioritized ones live in a
 * structure of their own), running and delayed ones, and how long the oldest waiting job has
 * waited. Two round trips whatever the number of functions (on a Redis Cluster two per function:
 * a pipeline cannot span hash slots): the counts and the oldest waiting job's id, then that job's
 * enqueue time where one waits. The autoscaler reads every busy function five times a second,
 * and 200 functions called at once are 200 busy ones.
 */
export async function readBacklogs(redis: Redis | Cluster, fns: string[], now: number): Promise<Backlog[]> {
  if (fns.length === 0) return [];
  const perFunction = redis instanceof Cluster;
  const counts = await inPipelines(redis, fns, perFunction, (p, fn) => {
    const base = queueKeyPrefix(fn);
    p.llen(`${base}:wait`)
      .zcard(`${base}:prioritized`)
      .llen(`${base}:active`)
      .zcard(`${base}:delayed`)
      // The oldest waiting job: jobs are pushed at the head of the wait list and taken from its
      // tail; prioritized ones only when none waits there.
      .lindex(`${base}:wait`, -1)
      .zrange(`${base}:prioritized`, 0, 0);
  });
  const backlogs: Backlog[] = [];
  const oldest: Array<{ at: number; key: string }> = [];
  fns.forEach((fn, i) => {
    const [wait, prioritized, active, delayed, tail, head] = counts[i] as unknown[];
    const waiting = Number(wait) + Number(prioritized);
    backlogs.push({ waiting, active: Number(active), delayed: Number(delayed), oldestWaitMs: 0 });
    const id = typeof tail === 'string' ? tail : Array.isArray(head) ? (head[0] as unknown) : undefined;
    if (waiting > 0 && typeof id === 'string') oldest.push({ at: i, key: `${queueKeyPrefix(fn)}:${id}` });
  });
  if (oldest.length === 0) return backlogs;
  const stamps = await inPipelines(redis, oldest, perFunction, (p, o) => p.hget(o.key, 'timestamp'));
  oldest.forEach((o, j) => {
    const ts = Number((stamps[j] as unknown[])[0]);
    // A job taken between the two reads has no hash left to read: it waits no more.
    if (Number.isFinite(ts) && ts > 0) (backlogs[o.at] as Backlog).oldestWaitMs = Math.max(0, now - ts);
  });
  return backlogs;
}

/**
 * Runs `add`'s commands for each item in one pipeline, or one pipeline per item; returns each
 * item's replies. Throws the first error a command met.
 */
async function inPipelines<T>(
  redis: Redis | Cluster,
  items: T[],
  perItem: boolean,
  add: (p: ChainableCommander, item: T) => void,
): Promise<unknown[][]> {
  const replies = async (p: ChainableCommander, n: number): Promise<unknown[][]> => {
    const out = (await p.exec()) ?? [];
    const values = out.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const per = values.length / n;
    return Array.from({ length: n }, (_, i) => values.slice(i * per, (i + 1) * per));
  };
  if (perItem) {
    const each = await Promise.all(
      items.map((item) => {
        const p = redis.pipeline();
        add(p, item);
        return replies(p, 1);
      }),
    );
    return each.map((r) => r[0] as unknown[]);
  }
  const p = redis.pipeline();
  for (const item of items) add(p, item);
  return replies(p, items.length);
}
