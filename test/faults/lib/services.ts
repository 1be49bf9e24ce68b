/**
 * The services around the platform during a fault: restarting Redis and MinIO through
 * `services-up.sh` (a Redis Cluster's nodes included), containers on the engine, and each scenario's cleanup.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Cluster, type Redis } from 'ioredis';
import { QUEUE_PREFIX, queueName } from '../../../src/queue/names.js';
import { recordKey } from '../../../src/queue/records.js';
import { isClusterUrl } from '../../../src/queue/redis-url.js';
import { config, requireRedis } from '../../helpers/services.js';
import { deleteBuckets } from './effect.js';
import { stopAll, type FaasProcess } from './processes.js';
import { sleep, until } from './wait.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Removes a function's queue and invocation records from Redis (from every master of a cluster). */
export async function dropQueue(fn: string): Promise<void> {
  const redis = await requireRedis();
  const queue = new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX });
  // A record's key is the function's id prefix after the record prefix (and, on a cluster, its hash tag).
  const records = recordKey(`${fn}.${'0'.repeat(32)}`).replace(/0{32}$/, '*');
  // requireRedis types a Cluster as Redis.
  const conn = redis as Redis | Cluster;
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [redis];
  try {
    await queue.obliterate({ force: true });
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', records, 'COUNT', 1000);
        cursor = next;
        // On a cluster they share the function's hash tag, so one DEL takes them all.
        if (keys.length) await node.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

const docker = new Docker();

/** Containers of the given platform instances, running or not. */
export async function containersOf(instances: string[]): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: ['faas.platform'] } });
  return all.filter((c) => instances.includes(c.Labels['faas.instance'] ?? ''));
}

/** Kills a container from outside the platform, as an operator or the OOM killer would. */
export async function dockerKill(id: string): Promise<void> {
  await docker.getContainer(id).kill();
}

/**
 * Waits for the platforms to have removed every container of `instances` (a stopped platform
 * removes its own; a killed one's are swept by the next). Removes stragglers and throws.
 */
export async function expectNoContainers(instances: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = await containersOf(instances);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(250);
    left = await containersOf(instances);
  }
  if (left.length === 0) return;
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  throw new Error(`containers left behind: ${left.map((c) => `${c.Names[0]} (${c.State})`).join(', ')}`);
}

/** The Redis servers behind REDIS_URL: the one, or every node of a cluster (asked of its seeds). */
async function redisServers(): Promise<Array<{ host: string; port: number }>> {
  if (!isClusterUrl(config.REDIS_URL)) {
    const u = new URL(config.REDIS_URL);
    return [{ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) }];
  }
  const cluster = (await requireRedis()) as unknown as Cluster;
  try {
    return cluster
      .nodes('all')
      .map((n) => ({ host: n.options.host as string, port: n.options.port as number }));
  } finally {
    cluster.disconnect();
  }
}

/**
 * Whether Redis answers: a single Redis a PING; a cluster, every node `cluster_state:ok` (a
 * cluster whose nodes answer before they agree still refuses commands with CLUSTERDOWN).
 */
export async function redisUp(): Promise<boolean> {
  let redis: Redis;
  try {
    redis = await requireRedis();
  } catch {
    return false;
  }
  try {
    const conn = redis as Redis | Cluster;
    if (!(conn instanceof Cluster)) return true;
    const infos = await Promise.all(conn.nodes('all').map((n) => n.cluster('INFO') as Promise<string>));
    return infos.every((info) => /^cluster_state:ok\s*$/m.test(info));
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * Stops Redis as an operator would, `redis-cli shutdown` (which persists the append-only file):
 * the one server, or each node of a cluster.
 */
export async function shutdownRedis(): Promise<void> {
  for (const { host, port } of await redisServers()) {
    spawnSync('redis-cli', ['-h', host, '-p', String(port), 'shutdown'], { timeout: 10_000 });
  }
}

export async function minioUp(): Promise<boolean> {
  return fetch(new URL('/minio/health/live', config.S3_ENDPOINT), { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** Runs one of the project's scripts in its own session (what it starts is not the test's). */
async function script(name: string, args: string[] = []): Promise<void> {
  const child = spawn('bash', [join(ROOT, 'scripts', name), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${[name, ...args].join(' ')} exited with ${code}:\n${out}`);
}

/**
 * `scripts/services-up.sh`: reuses healthy services and restarts missing ones on the same data
 * (Redis's append-only file, MinIO's data and event queue).
 */
export function servicesUp(): Promise<void> {
  return script('services-up.sh');
}

/** `scripts/second-engine.sh up|down DIR`: a second Docker engine on this machine, in DIR. */
export function secondEngine(cmd: 'up' | 'down', dir: string): Promise<void> {
  return script('second-engine.sh', [cmd, dir]);
}

/** Leaves Redis and MinIO running and healthy, whatever the scenario did to them. */
export async function ensureServices(): Promise<void> {
  if (!(await redisUp()) || !(await minioUp())) await servicesUp();
  await until('Redis and MinIO to be healthy', async () => (await redisUp()) && (await minioUp()), 60_000);
}

/** Removes manifest folders (and their state dirs). */
export async function removeDirs(dirs: string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

/**
 * Stops the scenario's processes, checks that no container is left, and removes its queues,
 * records, buckets and folders; leaves Redis and MinIO running and healthy.
 */
export async function cleanup(o: {
  procs: FaasProcess[];
  s3?: S3Client;
  fns: string[];
  buckets: string[];
  dirs: string[];
}): Promise<void> {
  const problems: unknown[] = [];
  const attempt = async (step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      problems.push(err);
    }
  };
  await attempt(() => ensureServices());
  await attempt(() => stopAll(o.procs));
  // FAULTS_LOGS=<dir> keeps every platform process's output there, for a closer look.
  const logs = process.env.FAULTS_LOGS;
  if (logs) {
    await mkdir(logs, { recursive: true });
    for (const p of o.procs) await writeFile(join(logs, `${p.role}-${p.instance}.log`), p.output());
  }
  await attempt(() => expectNoContainers(o.procs.map((p) => p.instance)));
  for (const fn of o.fns) await attempt(() => dropQueue(fn));
  const s3 = o.s3;
  if (s3) await attempt(() => deleteBuckets(s3, o.buckets));
  await attempt(() => removeDirs(o.dirs));
  s3?.destroy();
  if (problems.length) throw problems[0];
}

/** The pid of a service that `services-up.sh` started. */
export async function servicePid(name: 'redis' | 'minio'): Promise<number> {
  return Number((await readFile(join(config.stateDir, 'pids', `${name}.pid`), 'utf8')).trim());
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
