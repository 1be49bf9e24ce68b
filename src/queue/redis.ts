import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { UserError } from '../util/user-error.js';
import { useClusterKeys } from './names.js';
import { isClusterUrl, parseClusterUrl } from './redis-url.js';

/** Raised when Redis would lose queued jobs under memory pressure. */
export class EvictingRedis extends UserError {
  override name = 'EvictingRedis';
}

/**
 * Refuses a Redis that may evict keys: evicted job keys are lost invocations.
 * @example await assertNoEviction(redis);
 */
export async function assertNoEviction(redis: Redis | Cluster): Promise<void> {
  // On a cluster every master holds queues: each must keep its keys.
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const [, policy] = (await node.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      const where = redis instanceof Cluster ? ` on ${node.options.host}:${node.options.port}` : '';
      const cli =
        redis instanceof Cluster ? `redis-cli -h ${node.options.host} -p ${node.options.port}` : 'redis-cli';
      throw new EvictingRedis(
        `Redis maxmemory-policy is "${policy}"${where}: it may evict queued jobs. Set it with ` +
          `\`${cli} config set maxmemory-policy noeviction\` (and in redis.conf), then start again.`,
      );
    }
  }
}

/** An ioredis Cluster for a `redis+cluster://` URL, each node connection with `node` options. */
export function connectCluster(url: string, node: RedisOptions, cluster: ClusterOptions = {}): Cluster {
  const c = parseClusterUrl(url);
  return new Cluster(c.seeds, {
    enableReadyCheck: true,
    ...cluster,
    redisOptions: {
      ...node,
      username: c.username,
      password: c.password,
      ...(c.tls ? { tls: {} } : {}),
    },
  });
}

/**
 * A connection for BullMQ (which needs `maxRetriesPerRequest: null` for its blocking calls). For
 * a `redis+cluster://` URL it is an ioredis Cluster (BullMQ takes one as its connection), typed
 * as Redis: the platform uses only commands both answer, with every multi-key command and script
 * on keys of one hash slot (see names.ts).
 */
export function connectRedis(url: string, name?: string): Redis {
  if (isClusterUrl(url)) {
    // The platform's Redis is a cluster: this process names its keys for one (see names.ts).
    useClusterKeys();
    return connectCluster(url, { maxRetriesPerRequest: null, connectionName: name }) as unknown as Redis;
  }
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: name });
}

/**
 * A connection that fails at once while Redis is unreachable (no offline queue), for accepting
 * events: the caller answers 503 instead of holding the request, and never acknowledges work
 * that was not queued.
 */
export function connectRedisFailFast(url: string, name?: string): Redis {
  if (isClusterUrl(url)) {
    useClusterKeys();
    return connectCluster(
      url,
      { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5000, connectionName: name },
      { enableOfflineQueue: false },
    ) as unknown as Redis;
  }
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5000,
    connectionName: name,
  });
}
