/**
 * The platform on a 3-master Redis Cluster (started by `npm run services:up` on 7001-7003):
 * `faas up` as its own process with REDIS_URL=redis+cluster://..., sync and async webhooks, a
 * bucket trigger, a schedule, a Redis stream, retries into the dead-letter set and a re-drive after `faas deploy`
 * fixed the function, and each function's queue keys in its own hash slot, two functions on two masters.
 */
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName, usingClusterKeys } from '../../src/queue/names.js';
import {
  bucketEventsEnv,
  eventually,
  runCli,
  startPlatformProcess,
  writeManifestDir,
  type RunningPlatform,
} from '../helpers/platform.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const CLUSTER_URL =
  process.env.FAAS_TEST_REDIS_CLUSTER_URL ?? 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

async function faas(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const child = runCli(args, env);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

/** The master (host:port) serving the slot of `key`. */
async function masterOf(cluster: Cluster, key: string): Promise<string> {
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const ranges = await cluster.cluster('SLOTS');
  const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return `${master[0]}:${master[1]}`;
}

/** Whether `key` is stored on the node `hostPort` itself (asked without redirection). */
async function storedOn(cluster: Cluster, hostPort: string, key: string): Promise<boolean> {
  const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === hostPort);
  if (!node) throw new Error(`no master ${hostPort}`);
  // Another node's key answers MOVED: not here.
  const n = await node
    .exists(key)
    .catch((err: Error) => (err.message.startsWith('MOVED') ? 0 : Promise.reject(err)));
  return n === 1;
}

describe('on a 3-master Redis Cluster', () => {
  let redis: Redis;
  let cluster: Cluster;
  let s3: S3Client;
  let p: RunningPlatform;
  let dir: string;
  const input = uniqueName('rc-in');
  const output = uniqueName('rc-out');
  const hook = uniqueName('rch');
  let other = '';
  const copy = uniqueName('rcc');
  const flaky = uniqueName('rcf');
  const ticker = uniqueName('rcs');
  const streamed = uniqueName('rcq');
  const stream = uniqueName('rc-stream');

  beforeAll(async () => {
    redis = await requireRedis(CLUSTER_URL);
    cluster = redis as unknown as Cluster;
    await requireDocker();
    s3 = await requireMinio();
    // A second function whose queue lives on another master than the first's.
    const first = await masterOf(cluster, `faas:${queueName(hook)}:wait`);
    for (let i = 0; !other; i++) {
      const candidate = `${hook}-${i}`;
      if ((await masterOf(cluster, `faas:${queueName(candidate)}:wait`)) !== first) other = candidate;
    }
    for (const Bucket of [input, output]) await s3.send(new CreateBucketCommand({ Bucket }));
    dir = await writeManifestDir(
      `version: 1
functions:
  ${hook}:
    handler: echo/index.handler
    timeout: 5s
    triggers:
      - webhook: { path: /hooks/${hook}/async }
      - webhook: { path: /hooks/${hook}/sync, mode: sync }
  ${other}:
    handler: echo/index.handler
    triggers:
      - webhook: { path: /hooks/${other}, mode: sync }
  ${copy}:
    handler: copy-key/index.handler
    env: { OUT_BUCKET: ${output} }
    storage: { write: [${output}] }
    triggers:
      - bucket: ${input}
        prefix: data/
  ${flaky}:
    handler: flaky/index.handler
    timeout: 5s
    retry: { attempts: 2, backoff: 100ms }
  ${ticker}:
    handler: echo/index.handler
    triggers:
      - schedule: { every: 1s }
  ${streamed}:
    handler: echo/index.handler
    triggers:
      - queue: { broker: redis, name: ${stream} }
`,
      ['echo', 'copy-key', 'flaky'],
    );
    p = await startPlatformProcess('', [], { REDIS_URL: CLUSTER_URL, ...(await bucketEventsEnv()) }, dir);
  }, 120_000);

  afterAll(async () => {
    const code = await p?.stop();
    await redis?.del(stream).catch(() => undefined);
    redis?.disconnect();
    for (const b of [input, output]) if (s3) await dropBucket(s3, b).catch(() => undefined);
    expect(code).toBe(0);
  });

  it('names keys for a cluster in this process too (the test reads them)', () => {
    expect(usingClusterKeys()).toBe(true);
    expect(queueName(hook)).toBe(`{fn.${hook}}`);
  });

  it('answers a sync webhook', async () => {
    const res = await fetch(`${p.url}/hooks/${hook}/sync`, { method: 'POST', body: '{"a":1}' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { fn: string }).fn).toBe(hook);
    const res2 = await fetch(`${p.url}/hooks/${other}`, { method: 'POST', body: 'x' });
    expect(res2.status).toBe(200);
  });

  it('runs an async webhook, its record carried in its job, beside its queue in one hash slot', async () => {
    const res = await fetch(`${p.url}/hooks/${hook}/async`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await eventually('the invocation to succeed', async () => {
      const r = (await (await fetch(`${p.url}/invocations/${id}`)).json()) as { status: string };
      return r.status === 'succeeded' ? r : undefined;
    });
    // An async success's record is what its job returned: in the job's hash, in the queue's slot.
    const jobKey = `faas:${queueName(hook)}:${id}`;
    const master = await masterOf(cluster, `faas:${queueName(hook)}:meta`);
    expect(await cluster.cluster('KEYSLOT', jobKey)).toBe(
      await cluster.cluster('KEYSLOT', `faas:${queueName(hook)}:${id}:lock`),
    );
    expect(await storedOn(cluster, master, jobKey)).toBe(true);
    const carried = JSON.parse((await cluster.hget(jobKey, 'returnvalue')) ?? 'null') as {
      'faas:record'?: { id: string; status: string };
    };
    expect(carried['faas:record']).toMatchObject({ id, status: 'succeeded' });
    expect(await storedOn(cluster, master, `faas:fnidx:{fn.${hook}}`)).toBe(true);
    // Stats read every function's index (one call per slot on a cluster).
    const stats = await fetch(`${p.url}/invocations/stats`);
    expect(stats.status).toBe(200);
  });

  it("puts two functions' queues on two different masters", async () => {
    const a = await masterOf(cluster, `faas:${queueName(hook)}:meta`);
    const b = await masterOf(cluster, `faas:${queueName(other)}:meta`);
    expect(a).not.toBe(b);
    // The queues exist (BullMQ wrote them), each on its own master only.
    expect(await storedOn(cluster, a, `faas:${queueName(hook)}:meta`)).toBe(true);
    expect(await storedOn(cluster, b, `faas:${queueName(other)}:meta`)).toBe(true);
    expect(await storedOn(cluster, b, `faas:${queueName(hook)}:meta`)).toBe(false);
  });

  it('runs a bucket trigger', async () => {
    await s3.send(new PutObjectCommand({ Bucket: input, Key: 'data/one.csv', Body: 'a,b\n1,2\n' }));
    await eventually('the copy to appear', async () =>
      (await listKeys(s3, output, 'out/')).includes('out/data/one.csv') ? true : undefined,
    );
  });

  it('retries into the dead-letter set, and re-drives it after a deploy fixed the function', async () => {
    const res = await fetch(`${p.url}/functions/${flaky}/invoke?async=1`, {
      method: 'POST',
      body: JSON.stringify({ poison: true, n: 7 }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const dead = await eventually('the dead letter', async () => {
      const list = (await (await fetch(`${p.url}/dlq?function=${flaky}`)).json()) as Array<{
        id: string;
        attempts?: number;
      }>;
      return list.find((d) => d.id === id);
    });
    expect(dead.id).toBe(id);
    const failed = (await (await fetch(`${p.url}/invocations/${id}`)).json()) as {
      status: string;
      attempts: number;
    };
    expect(failed).toMatchObject({ status: 'failed', attempts: 2 });

    const handler = join(dir, 'flaky', 'index.mjs');
    await writeFile(
      handler,
      (await readFile(handler, 'utf8')).replace('const FIXED = false', 'const FIXED = true'),
    );
    const deployed = await faas(['deploy', '--manifest', join(dir, 'manifest.yaml')], { FAAS_URL: p.url });
    expect(deployed.code, deployed.out).toBe(0);
    expect(deployed.out).toMatch(new RegExp(`${flaky}[\\s\\S]*v2`));

    const retry = await fetch(`${p.url}/dlq/${id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    const done = await eventually('the re-driven invocation to succeed', async () => {
      const r = (await (await fetch(`${p.url}/invocations/${id}`)).json()) as {
        status: string;
        version?: number;
        result?: { fixed: boolean };
      };
      return r.status === 'succeeded' ? r : undefined;
    });
    expect(done.version).toBe(2);
    expect(done.result).toMatchObject({ fixed: true, n: 7 });
  });

  it('runs a schedule (its ticks queue in the slot of {schedules})', async () => {
    await eventually('two scheduled runs', async () => {
      const stats = (await (await fetch(`${p.url}/functions/${ticker}/stats`)).json()) as { count: number };
      return stats.count >= 2 ? stats : undefined;
    });
  });

  it('consumes a Redis stream on the cluster (the default url is REDIS_URL)', async () => {
    for (let i = 0; i < 3; i++) await redis.xadd(stream, '*', 'body', `m${i}`);
    await eventually('three stream entries run', async () => {
      const stats = (await (await fetch(`${p.url}/functions/${streamed}/stats`)).json()) as { count: number };
      return stats.count >= 3 ? stats : undefined;
    });
  });

  it('lists this host in status (heartbeats on the cluster)', async () => {
    const status = (await (await fetch(`${p.url}/status`)).json()) as { hosts?: Array<{ up: boolean }> };
    expect(status.hosts?.some((h) => h.up)).toBe(true);
  });
});
