/**
 * After the whole suite: no container of the platform may be left on the engine. Every test
 * removes what it starts; this catches the ones that did not. It looks only at containers
 * created during this run whose platform instance is gone (no heartbeat in Redis), so that
 * a platform someone else runs on the same engine is left alone.
 */
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { connectCluster } from '../../src/queue/redis.js';
import { isClusterUrl } from '../../src/queue/redis-url.js';

let started = 0;

export function setup(): void {
  started = Math.floor(Date.now() / 1000) - 1;
}

export async function teardown(): Promise<void> {
  const docker = new Docker();
  const all = await docker
    .listContainers({ all: true, filters: { label: ['faas.platform'] } })
    .catch(() => [] as Docker.ContainerInfo[]);
  // Heartbeats live in the single Redis or in the local cluster, whichever a run uses: both are
  // asked whatever this run's REDIS_URL, so that a run on one leaves alone the containers of a
  // run on the other going on at the same time (each looks "gone" in the other's store).
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const clusterUrl = isClusterUrl(url)
    ? url
    : (process.env.FAAS_TEST_REDIS_CLUSTER_URL ??
      'redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003');
  const single = new Redis(isClusterUrl(url) ? 'redis://127.0.0.1:6379' : url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  single.on('error', () => undefined);
  // No retries: a cluster that is not running (FAAS_REDIS_CLUSTER_UP=0) holds no heartbeat.
  const cluster = connectCluster(
    clusterUrl,
    { maxRetriesPerRequest: 1 },
    { lazyConnect: true, clusterRetryStrategy: () => null },
  );
  cluster.on('error', () => undefined);
  const alive = async (instance: string | undefined) => {
    if (!instance) return false;
    if ((await single.exists(`faas:instance:${instance}`).catch(() => 0)) === 1) return true;
    return (await cluster.exists(`faas:instance:{instances}:${instance}`).catch(() => 0)) === 1;
  };
  const left: Docker.ContainerInfo[] = [];
  for (const c of all) {
    if (c.Created >= started && !(await alive(c.Labels['faas.instance']))) left.push(c);
  }
  single.disconnect();
  cluster.disconnect();
  if (left.length > 0) {
    const names = left.map((c) => `${c.Names[0]} (${c.State})`).join(', ');
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    throw new Error(`the test suite left ${left.length} platform container(s) behind: ${names}`);
  }
}
