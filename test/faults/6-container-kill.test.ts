/**
 * Fault 6: a function container killed from outside the platform (`docker kill`, found by its
 * labels) while it runs invocations. Each invocation it held fails with kind `container-lost`,
 * is retried on another container, and the effect is one output per input.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';
import {
  cleanup,
  containersOf,
  createBuckets,
  deadLetters,
  dockerKill,
  inputKeys,
  keyedManifest,
  manifestDir,
  publishedPool,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  startFaas,
  testS3,
  until,
  type FaasProcess,
  type PooledContainer,
} from './harness.js';

const N = 200;

interface InvocationView {
  status: string;
  attempts: number;
  history: Array<{ attempt: number; error: { kind: string } }>;
}

describe('fault 6: a function container killed from outside', () => {
  const fn = shortName('lost');
  const out = shortName('fault6-out');
  const procs: FaasProcess[] = [];
  let s3: S3Client;
  let dir: string;

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = testS3();
    await createBuckets(s3, [out]);
    dir = await manifestDir(keyedManifest(fn, { out, delayMs: 400 }));
  }, 60_000);

  afterAll(async () => {
    await cleanup({ procs, s3, fns: [fn], buckets: [out], dirs: [dir] });
  }, 180_000);

  it('the invocations it held fail as container-lost, are retried, and outputs equal inputs', async () => {
    const p = await startFaas('up', dir, { FAAS_PORT: String(await freePort()) });
    procs.push(p);
    const url = p.url as string;
    const keys = inputKeys('x-', N);
    const burst = sendInvokes(url, fn, keys, 20);
    let victim: PooledContainer | undefined;
    await until(
      'a container running several invocations',
      async () => {
        if (burst.started < N / 3) return false;
        victim = (await publishedPool(p.instance)).find((c) => c.fn === fn && c.inFlight >= 2);
        return victim !== undefined;
      },
      60_000,
    );
    const target = (await containersOf([p.instance])).find(
      (c) => c.Names[0] === `/${victim?.name}` && c.Labels['faas.function'] === fn && c.State === 'running',
    );
    expect(target, `container ${victim?.name} running`).toBeDefined();
    await dockerKill(target?.Id as string);
    const killedAt = Date.now();
    await burst.done;
    const { effect, counts } = await settle(s3, out, fn, { expected: N, timeoutMs: 120_000 });
    const dead = await deadLetters(url, fn);
    const records = await Promise.all(
      [...burst.ids.values()].map(
        async (id) => (await (await fetch(`${url}/invocations/${id}`)).json()) as InvocationView,
      ),
    );
    const lost = records.filter((r) => r.history.some((h) => h.error.kind === 'container-lost'));
    report('6 function container killed from outside', {
      N,
      recovery: seconds(killedAt, effect.lastOutputAt),
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      inFlightOnVictim: victim?.inFlight ?? 0,
      containerLost: lost.length,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    // The invocations on the killed container failed as container-lost, then succeeded on a retry.
    expect(lost.length).toBeGreaterThan(0);
    for (const r of lost) expect(r).toMatchObject({ status: 'succeeded' });
    expect(lost.every((r) => r.attempts >= 2)).toBe(true);
    expect(await p.stop()).toBe(0);
  }, 200_000);
});
