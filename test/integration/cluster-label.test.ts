/**
 * Containers carry their cluster, and a platform's reaper sweeps only its own cluster's: a
 * platform of another cluster on the same Docker engine, whose Redis cannot see this cluster's
 * heartbeats, leaves its containers alone, while this cluster still removes what its own dead
 * instances left. Real engine, real Redis (the other cluster on another Redis database).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterLabel } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { LABEL_CLUSTER, LABEL_INSTANCE } from '../../src/pool/driver.js';
import { Pool } from '../../src/pool/pool.js';
import { Reaper } from '../../src/pool/reaper.js';
import { S3Gateway } from '../../src/storage/s3-gateway.js';
import {
  config,
  requireEngine,
  requireMinio,
  requireRedis,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';

const name = (prefix: string) =>
  uniqueName(prefix)
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 30);

/** The same Redis server, another database: a Redis that cannot see this cluster's heartbeats. */
function otherRedisUrl(): string {
  const url = new URL(config.REDIS_URL);
  url.pathname = url.pathname === '/1' ? '/2' : '/1';
  return url.toString();
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('cluster labels on a shared engine', () => {
  let driver: DockerDriver;
  let image: string;
  let stateDir: string;
  let redis: Redis;
  let otherRedis: Redis;
  const pools: Pool[] = [];
  const reapers: Reaper[] = [];
  const ours = clusterLabel({ FAAS_CLUSTER: name('a'), REDIS_URL: config.REDIS_URL });
  const theirs = clusterLabel({ FAAS_CLUSTER: name('b'), REDIS_URL: otherRedisUrl() });

  const pool = async (instance: string, cluster: string) => {
    const p = new Pool({
      driver,
      storage: new S3Gateway(await requireMinio()),
      image,
      instance,
      cluster,
      stateDir,
      logger: silentLogger,
      code: async () => '',
      prewarm: 1,
      hostCap: 2,
      genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
    });
    pools.push(p);
    await p.start();
    await until(`a warm container of ${instance}`, async () => (await containersOf(instance)).length > 0);
    return p;
  };
  const containersOf = (instance: string) => driver.list({ [LABEL_INSTANCE]: instance });

  beforeAll(async () => {
    const engine = await requireEngine();
    driver = new DockerDriver(engine);
    image = await requireRuntimeImage(engine);
    redis = await requireRedis();
    otherRedis = await requireRedis(otherRedisUrl());
    stateDir = await mkdtemp(join(tmpdir(), 'faas-cluster-'));
  });

  afterAll(async () => {
    for (const r of reapers) await r.stop().catch(() => undefined);
    for (const p of pools) await p.close().catch(() => undefined);
    redis?.disconnect();
    otherRedis?.disconnect();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('labels containers with the cluster; another Redis makes another cluster', () => {
    expect(ours).toMatch(/^a-.*\.[0-9a-f]{8}$/);
    expect(clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis://:secret@127.0.0.1:6379' })).toBe(
      clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis://127.0.0.1:6379' }),
    );
    expect(clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis://127.0.0.1:6379/1' })).not.toBe(
      clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis://127.0.0.1:6379' }),
    );
  });

  it("another cluster's reaper leaves this cluster's containers alone; this cluster's removes its dead instances'", async () => {
    // This cluster: a live instance (beating in its Redis) and one that died without cleaning up.
    const live = name('live');
    const liveReaper = new Reaper(redis, driver, live, silentLogger, () => [], undefined, ours);
    reapers.push(liveReaper);
    await liveReaper.start();
    await pool(live, ours);
    const dead = name('dead');
    await pool(dead, ours);
    const [own] = await containersOf(live);
    expect(own?.labels[LABEL_CLUSTER]).toBe(ours);

    // The other cluster's reaper, on a Redis where neither instance beats, on the same engine.
    const stranger = new Reaper(otherRedis, driver, name('other'), silentLogger, () => [], undefined, theirs);
    reapers.push(stranger);
    expect(await stranger.start()).toBe(0);
    expect(await stranger.sweep()).toBe(0);
    expect((await containersOf(live)).length).toBeGreaterThan(0);
    expect((await containersOf(dead)).length).toBeGreaterThan(0);

    // This cluster's own sweep removes the dead instance's containers and keeps the live one's.
    expect(await liveReaper.sweep()).toBeGreaterThan(0);
    expect(await containersOf(dead)).toEqual([]);
    expect((await containersOf(live)).length).toBeGreaterThan(0);
  }, 60_000);
});
