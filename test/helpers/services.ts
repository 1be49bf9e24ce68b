/**
 * Connections to the real local services for integration tests. Each `require*` fails with a
 * message that says how to start the missing service; no test skips because a service is absent.
 */
import { S3Client } from '@aws-sdk/client-s3';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { EngineApi } from '../../src/pool/engine-api.js';
import { engineAddress } from '../../src/pool/engine-host.js';
import { heartbeatKey } from '../../src/pool/reaper.js';
import { useClusterKeys } from '../../src/queue/names.js';
import { connectCluster } from '../../src/queue/redis.js';
import { isClusterUrl } from '../../src/queue/redis-url.js';

export const config = loadConfig(process.env);
// A suite run against a cluster names its keys as the platform's processes do, from the start.
if (isClusterUrl(config.REDIS_URL)) useClusterKeys();
const START = 'start it with `npm run services:up`';

/**
 * A connection to the platform's Redis. For a `redis+cluster://` URL (a suite run against the
 * cluster), an ioredis Cluster typed as Redis, and this process names its keys for a cluster,
 * as the platform does.
 */
export async function requireRedis(url = config.REDIS_URL): Promise<Redis> {
  const once = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  };
  let redis: Redis;
  if (isClusterUrl(url)) {
    useClusterKeys();
    redis = connectCluster(url, once, {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
      // ioredis gives CLUSTER SLOTS 1 s per seed; on two cores loaded by a fault scenario's
      // containers this process may not even run within that, and the check would fail a test
      // with "None of startup nodes is available". 10 s, as a single Redis's connect timeout.
      slotsRefreshTimeout: 10_000,
    }) as unknown as Redis;
  } else {
    redis = new Redis(url, once);
  }
  redis.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    // A cluster's connect can wait forever when a node answers before the cluster agrees again
    // (its ready check fails and no retry is allowed): give it the slots refresh's time and more.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 20 s')), 20_000);
    });
    await Promise.race([redis.connect().then(() => redis.ping()), late]);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${url} (${(err as Error).message}): ${START}`);
  } finally {
    clearTimeout(timer);
  }
}

export function s3Client(endpoint = config.S3_ENDPOINT): S3Client {
  return new S3Client({
    endpoint,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  });
}

export async function requireMinio(endpoint = config.S3_ENDPOINT): Promise<S3Client> {
  try {
    const res = await fetch(new URL('/minio/health/live', endpoint), { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`health check answered ${res.status}`);
  } catch (err) {
    throw new Error(`MinIO is not reachable at ${endpoint} (${(err as Error).message}): ${START}`);
  }
  return s3Client(endpoint);
}

export async function requireDocker(socketPath = '/var/run/docker.sock'): Promise<Docker> {
  const docker = process.env.DOCKER_HOST ? new Docker() : new Docker({ socketPath });
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`the Docker engine is not reachable (${(err as Error).message}): ${START}`);
  }
  return docker;
}

/**
 * The platform's own client of the engine the tests use (DOCKER_HOST, else the local socket),
 * once the engine answers.
 */
export async function requireEngine(): Promise<EngineApi> {
  const engine = new EngineApi(engineAddress(process.env));
  try {
    await engine.ping();
  } catch (err) {
    throw new Error(`the Docker engine is not reachable (${(err as Error).message}): ${START}`);
  }
  return engine;
}

/** The runtime image matching this build's runtime bundle. */
export async function requireRuntimeImage(engine?: EngineApi): Promise<string> {
  return new DockerDriver(engine ?? (await requireEngine())).runtimeImage();
}

/** A name unique to this test run, for queues, buckets and containers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Keeps a heartbeat for a pool a test drives without a platform, so that the leak sweep of any
 * platform running meanwhile does not take the test's containers for leftovers.
 * @returns a function that stops the heartbeat
 */
export async function heartbeat(instance: string): Promise<() => Promise<void>> {
  const redis = await requireRedis();
  const key = heartbeatKey(instance);
  const beat = () => redis.set(key, JSON.stringify({ pid: process.pid, pool: [] }), 'EX', 10);
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), 2000);
  return async () => {
    clearInterval(timer);
    await redis.del(key).catch(() => undefined);
    redis.disconnect();
  };
}
