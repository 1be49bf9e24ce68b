/**
 * Fault 2: the platform (`faas up`) is sent SIGTERM during a burst. It stops taking work, lets
 * the invocations in flight finish, and exits 0; the sender retries what found no server. After
 * a restart on the same port everything completes, and nothing ran twice.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import {
  deadLetters,
  inFlight,
  inputKeys,
  jobCounts,
  keyedManifest,
  readEffect,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  startFaas,
  until,
  scenario,
} from './harness.js';

const N = 200;

describe('fault 2: SIGTERM during a burst, then restart', () => {
  const fn = shortName('term');
  const out = shortName('fault2-out');
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () => keyedManifest(fn, { out, delayMs: 300 }),
  });
  const { procs } = sc;

  it('exits 0 with the in-flight invocations finished; after a restart every event completes once', async () => {
    const env = { FAAS_PORT: String(await freePort()) };
    const first = await startFaas('up', sc.dir, env);
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
    const doneAtExit = (await readEffect(sc.s3, out)).outputs.length;

    const second = await startFaas('up', sc.dir, env);
    procs.push(second);
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, { expected: N, timeoutMs: 120_000 });
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
