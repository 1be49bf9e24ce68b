import { Redis } from 'ioredis';
import { UserError } from '../util/user-error.js';

/** Raised when Redis would lose queued jobs under memory pressure. */
export class EvictingRedis extends UserError {
  override name = 'EvictingRedis';
}

/**
 * Refuses a Redis that may evict keys: evicted job keys are lost invocations.
 * @example await assertNoEviction(redis);
 */
export async function assertNoEviction(redis: Redis): Promise<void> {
  const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
  if (policy !== 'noeviction') {
    throw new EvictingRedis(
      `Redis maxmemory-policy is "${policy}": it may evict queued jobs. Set it with ` +
        '`redis-cli config set maxmemory-policy noeviction` (and in redis.conf), then start again.',
    );
  }
}

/** A connection for BullMQ (which needs `maxRetriesPerRequest: null` for its blocking calls). */
export function connectRedis(url: string, name?: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: name });
}

/**
 * A connection that fails at once while Redis is unreachable (no offline queue), for accepting
 * events: the caller answers 503 instead of holding the request, and never acknowledges work
 * that was not queued.
 */
export function connectRedisFailFast(url: string, name?: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5000,
    connectionName: name,
  });
}
