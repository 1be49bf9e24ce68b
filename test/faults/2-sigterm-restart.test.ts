/**
 * Fault 2: the platform (`faas up`) is sent SIGTERM during a burst. It stops taking work, lets
 * the invocations in flight finish, and exits 0; the sender retries what found no server. After
 * a restart on the same port everything completes, and nothing ran twice.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';
import {
  cleanup,
  createBuckets,
  deadLetters,
  inFlight,
  inputKeys,
  jobCounts,
  keyedManifest,
  manifestDir,
  readEffect,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  startFaas,
  testS3,
  until,
  type FaasProcess,
} from './harness.js';

const N = 200;

describe('fault 2: SIGTERM during a burst, then restart', () => {
  const fn = shortName('term');
  const out = shortName('fault2-out');
  const procs: FaasProcess[] = [];
  let s3: S3Client;
  let dir: string;

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = testS3();
    await createBuckets(s3, [out]);
    dir = await manifestDir(keyedManifest(fn, { out, delayMs: 300 }));
  }, 60_000);

  afterAll(async () => {
    await cleanup({ procs, s3, fns: [fn], buckets: [out], dirs: [dir] });
  }, 180_000);

  it('exits 0 with the in-flight invocations finished; after a restart every event completes once', async () => {
    const env = { FAAS_PORT: String(await freePort()) };
    const first = await startFaas('up', dir, env);
    procs.push(first);
    const keys = inputKeys('t-', N);
    const burst = sendInvokes(first.url as string, fn, keys, 25);
    await until(
      'invocations in flight',
      async () => burst.started >= N / 3 && (await inFlight(first.instance)) > 0,
      60_000,
    );
    const activeAtStop = (await jobCounts(fn)).active;
    first.signal('SIGTERM');
    const stoppedAt = Date.now();
    expect(await first.exited).toBe(0);
    const exitedAt = Date.now();
    // Nothing is left active: every invocation the platform held finished before it exited.
    const afterExit = await jobCounts(fn);
    const doneAtExit = (await readEffect(s3, out)).outputs.length;

    const second = await startFaas('up', dir, env);
    procs.push(second);
    await burst.done;
    const { effect, counts } = await settle(s3, out, fn, { expected: N, timeoutMs: 120_000 });
    const dead = await deadLetters(second.url as string, fn);
    report('2 SIGTERM during a burst, restart', {
      N,
      recovery: seconds(second.readyAt, effect.lastOutputAt),
      stop: seconds(stoppedAt, exitedAt),
      activeAtStop,
      outputsAtExit: doneAtExit,
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      unreachableAttempts: burst.unreachable,
    });
    expect(activeAtStop).toBeGreaterThan(0);
    expect(afterExit.active).toBe(0);
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    // Graceful: no invocation was cut off and run again.
    expect(effect.duplicates).toBe(0);
    expect(await second.stop()).toBe(0);
  }, 200_000);
});
