import { createHash, randomUUID } from 'node:crypto';

/** Redis key prefix of every BullMQ structure the platform creates. */
export const QUEUE_PREFIX = 'faas';

/**
 * Key naming. On a single Redis the keys keep the names they always had (an upgraded platform
 * finds its queued jobs, records and dead letters where it left them). On a Redis Cluster every
 * key a multi-key command or script touches together carries the same hash tag (`{...}`): a
 * function's queue keys, its job locks, invocation records and index share the slot of
 * `{fn.<name>}`, so different functions' queues spread over the shards. Set once, by
 * connectRedis, from REDIS_URL.
 */
let clusterKeys = false;

/** Switches key naming to the cluster's hash-tagged names (see connectRedis). */
export function useClusterKeys(on = true): void {
  clusterKeys = on;
}

/** Whether keys are named for a Redis Cluster. */
export function usingClusterKeys(): boolean {
  return clusterKeys;
}

/**
 * A name whose keys share one hash slot on a cluster: `{name}`; unchanged on a single Redis.
 * @example slotted('schedules') // 'schedules', or '{schedules}' on a cluster
 */
export function slotted(name: string): string {
  return clusterKeys ? `{${name}}` : name;
}

/**
 * The BullMQ queue that holds one function's invocations: `fn.<name>`, and on a cluster
 * `{fn.<name>}`, which gives all its keys (`faas:{fn.<name>}:wait`, ...) one hash slot.
 */
export function queueName(functionName: string): string {
  return slotted(`fn.${functionName}`);
}

/**
 * An invocation id is `<function>.<32 hex>`: function names never contain a dot, so the id alone
 * finds the queue. Derived from a dedup key, the same event always gets the same id, and BullMQ
 * refuses the second job with that id: the same notification twice runs once.
 */
export function invocationId(functionName: string, dedupKey?: string): string {
  const hex = dedupKey
    ? createHash('sha256').update(`${functionName}\n${dedupKey}`).digest('hex').slice(0, 32)
    : randomUUID().replaceAll('-', '');
  return `${functionName}.${hex}`;
}

/** The function an invocation id belongs to, or undefined when the id is not one of ours. */
export function functionOfInvocation(id: string): string | undefined {
  const m = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.([0-9a-f]{32})$/.exec(id);
  return m?.[1];
}

/**
 * Pub/sub channel told a function's name whenever jobs are queued for it: hosts start that
 * function's queue worker on demand (an idle function holds none), see worker/dispatcher.ts.
 */
export const WORK_CHANNEL = 'faas:work';

/** The prefix of every Redis key of a function's BullMQ queue (its jobs are `<prefix>:<id>`). */
export function queueKeyPrefix(functionName: string): string {
  return `${QUEUE_PREFIX}:${queueName(functionName)}`;
}

/** A function's BullMQ queue keys of the given kinds. */
function queueKeys(functionName: string, kinds: string[]): string[] {
  const base = queueKeyPrefix(functionName);
  return kinds.map((k) => `${base}:${k}`);
}

/** The Redis keys that hold a function's jobs ready to be taken now. */
export function waitingKeys(functionName: string): string[] {
  return queueKeys(functionName, ['wait', 'prioritized']);
}

/** The Redis keys that hold a function's unfinished jobs: any of them existing means work. */
export function workKeys(functionName: string): string[] {
  return queueKeys(functionName, ['wait', 'paused', 'prioritized', 'delayed', 'active']);
}
