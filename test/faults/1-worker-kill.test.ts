/**
 * Fault 1: a worker process killed with SIGKILL mid-invocation. The platform runs split, `faas
 * api` taking the invokes and `faas worker` processes running them. The killed worker's jobs keep
 * their locks until the locks lapse; then BullMQ's stalled-job check moves them back to wait and
 * a live worker runs them: (a) a second worker that was already running, (b) the killed worker
 * restarted alone. Every event completes exactly once in effect.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetters,
  expectNoContainers,
  inFlight,
  inputKeys,
  keyedManifest,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  stalledJobs,
  startFaas,
  until,
  scenario,
  FAST_TAKEOVER_ENV,
  type FaasProcess,
} from './harness.js';

const N = 200;

describe('fault 1: a worker killed with SIGKILL mid-invocation', () => {
  const fn = shortName('kill');
  const out = shortName('fault1-out');
  // A 300 ms handler with a 5 s timeout: the lock of a job lasts timeout + the lock margin.
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () => keyedManifest(fn, { out, delayMs: 300, timeout: '5s' }),
  });
  const { procs } = sc;
  let api: FaasProcess;
  /** The worker that survives (a) and is killed in (b). */
  let survivor: FaasProcess;

  const worker = async () => {
    const w = await startFaas('worker', sc.dir, FAST_TAKEOVER_ENV);
    procs.push(w);
    return w;
  };

  beforeAll(async () => {
    api = await startFaas('api', sc.dir);
    procs.push(api);
  }, 120_000);

  it('(a) with a second worker running, the killed worker’s jobs complete exactly once in effect', async () => {
    const [doomed, other] = await Promise.all([worker(), worker()]);
    survivor = other;
    const keys = inputKeys('a-', N);
    const burst = sendInvokes(api.url as string, fn, keys, 15);
    await until(
      'the doomed worker to hold invocations',
      async () => burst.started >= N / 3 && (await inFlight(doomed.instance)) > 0,
      60_000,
    );
    doomed.signal('SIGKILL');
    const killedAt = Date.now();
    expect(await doomed.exited).toBeNull();
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'a-',
      expected: N,
      timeoutMs: 170_000,
    });
    const dead = await deadLetters(api.url as string, fn);
    const stalled = await stalledJobs(fn, [...burst.ids.values()]);
    report('1a worker SIGKILL, second worker running', {
      N,
      recovery: seconds(killedAt, effect.lastOutputAt),
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      takenOver: stalled,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    // The kill did land mid-invocation: some of its jobs were found stalled and run again.
    expect(stalled).toBeGreaterThan(0);
    // The live worker removes the containers the killed one left behind.
    await expectNoContainers([doomed.instance], 45_000);
  }, 200_000);

  it('(b) the killed worker restarted alone completes its own jobs exactly once in effect', async () => {
    expect(survivor?.alive()).toBe(true);
    const keys = inputKeys('b-', N);
    const burst = sendInvokes(api.url as string, fn, keys, 15);
    await until(
      'the worker to hold invocations',
      async () => burst.started >= N / 3 && (await inFlight(survivor.instance)) > 0,
      60_000,
    );
    survivor.signal('SIGKILL');
    expect(await survivor.exited).toBeNull();
    const restarted = await worker();
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'b-',
      expected: N,
      timeoutMs: 170_000,
    });
    const dead = await deadLetters(api.url as string, fn);
    const stalled = await stalledJobs(fn, [...burst.ids.values()]);
    report('1b worker SIGKILL, restarted alone', {
      N,
      recovery: seconds(restarted.readyAt, effect.lastOutputAt),
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      takenOver: stalled,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(stalled).toBeGreaterThan(0);
    await expectNoContainers([survivor.instance], 45_000);
  }, 200_000);
});
