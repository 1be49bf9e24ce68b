/**
 * Checks, before anything starts, that the services a role needs answer: a platform that cannot
 * reach Redis, storage or Docker stops at once with one line naming the fix, instead of retrying
 * in the background with nothing working.
 */
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EngineApi } from '../pool/engine-api.js';
import { Redis, type Cluster } from 'ioredis';
import { assertNoEviction, connectCluster } from '../queue/redis.js';
import { isClusterUrl } from '../queue/redis-url.js';
import { UserError } from '../util/user-error.js';

const START = 'start it with `npm run services:up`';
/** Longest wait for one service's first answer. */
const ANSWER_TIMEOUT_MS = 5000;

/**
 * Redis answers, and keeps queued jobs under memory pressure.
 * @throws UserError naming REDIS_URL and the command that starts Redis
 */
export async function checkRedis(url: string): Promise<void> {
  const once = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: ANSWER_TIMEOUT_MS,
  };
  const cluster = isClusterUrl(url);
  const redis: Redis | Cluster = cluster
    ? connectCluster(url, once, {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
      })
    : new Redis(url, once);
  // The socket's own error says more than the rejection ("Connection is closed.").
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError ??= err));
  // A cluster's own error ("Failed to refresh slots cache.") hides its nodes' answers.
  let nodeError: Error | undefined;
  redis.on('node error', (err: Error) => {
    if (err.message !== 'Connection is closed.') nodeError ??= err;
  });
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      const message = (nodeError ?? socketError ?? (err as Error)).message;
      if (/NOAUTH|WRONGPASS|invalid password/i.test(message)) {
        throw new UserError(
          `Redis at ${redact(url)} refused the connection (${message})`,
          'put the right user and password in REDIS_URL (redis://user:password@host:6379)',
        );
      }
      throw new UserError(
        `Redis ${cluster ? 'Cluster ' : ''}is not reachable at ${redact(url)} (${message})`,
        `${START}, or set REDIS_URL`,
      );
    }
    if (cluster) {
      const info = String(await redis.cluster('INFO'));
      if (!/cluster_state:ok/.test(info)) {
        throw new UserError(
          `the Redis Cluster at ${redact(url)} is not ready (${/cluster_state:\w+/.exec(info)?.[0] ?? 'no cluster_state'})`,
          'give every hash slot a master (`redis-cli --cluster check HOST:PORT` says which are missing)',
        );
      }
    } else if (/cluster_enabled:1/.test(await redis.info('cluster').catch(() => ''))) {
      // BullMQ's scripts would fail with MOVED on most keys: refuse before anything is queued.
      throw new UserError(
        `Redis at ${redact(url)} is a Redis Cluster node`,
        'name the cluster in REDIS_URL as redis+cluster://host:port,host:port,... (its seed nodes)',
      );
    }
    await assertNoEviction(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * The object store answers and takes the credentials. A refusal for lack of permission to list
 * buckets still proves both.
 * @throws UserError naming S3_ENDPOINT or the credential variables
 */
export async function checkStorage(s3: S3Client, endpoint: string): Promise<void> {
  try {
    await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error & { name: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined) {
      throw new UserError(
        `storage (MinIO) is not reachable at ${endpoint} (${e.message})`,
        `${START}, or set S3_ENDPOINT`,
      );
    }
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(e.name)) {
      throw new UserError(
        `storage at ${endpoint} refused the credentials (${e.name})`,
        'set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY to its keys',
      );
    }
    if (status !== 403)
      throw new UserError(`storage at ${endpoint} answered ${status} (${e.message})`, 'check S3_ENDPOINT');
  }
}

/**
 * The Docker engine answers (workers run functions in its containers).
 * @throws UserError naming the command that starts it
 */
export async function checkDocker(engine: EngineApi): Promise<void> {
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
    });
    await Promise.race([engine.ping(), late]).finally(() => clearTimeout(timer));
  } catch (err) {
    throw new UserError(
      `the Docker engine is not reachable (${(err as Error).message})`,
      `${START}, or set DOCKER_HOST`,
    );
  }
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  // A cluster URL is no WHATWG URL (several host:port): hide what stands between :// and @.
  if (isClusterUrl(url)) return url.replace(/^([^:]+:\/\/)[^@/]*:[^@/]*@/, '$1***@');
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
