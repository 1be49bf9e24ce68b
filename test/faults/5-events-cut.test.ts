/**
 * Fault 5: the bucket-event connection cut for 10 s while uploads continue. The platform runs
 * split (`faas api` receives MinIO's webhook target on 8080, `faas worker` runs the function);
 * the API process is stopped for 10 s and started again. MinIO keeps the events it could not
 * deliver in its on-disk queue and delivers them once the API answers again.
 */
import { describe, expect, it } from 'vitest';
import {
  deadLetters,
  eventsEnv,
  inputKeys,
  keyedManifest,
  missing,
  report,
  seconds,
  settle,
  shortName,
  sleep,
  startFaas,
  until,
  uploadKeys,
  scenario,
} from './harness.js';

const N = 200;
const CUT_MS = 10_000;

describe('fault 5: the bucket-event connection cut for 10 s', () => {
  const fn = shortName('cut');
  const input = shortName('fault5-in');
  const out = shortName('fault5-out');
  const sc = scenario({
    fns: [fn],
    buckets: [input, out],
    manifest: () => keyedManifest(fn, { out, delayMs: 100, trigger: input }),
  });
  const { procs } = sc;

  it('MinIO redelivers what queued on its disk while the API was down; outputs equal inputs', async () => {
    const env = await eventsEnv();
    const api = await startFaas('api', sc.dir, env);
    procs.push(api);
    procs.push(await startFaas('worker', sc.dir));
    const keys = inputKeys('c-', N);
    // 200 uploads over about 14 s: before, during and after the 10 s cut.
    const burst = uploadKeys(sc.s3, input, keys, 70);
    await until('a fifth of the uploads', () => burst.accepted >= N / 5, 60_000);
    api.signal('SIGTERM');
    const cutAt = Date.now();
    expect(await api.exited).toBe(0);
    const uploadedBeforeCut = burst.accepted;
    await sleep(Math.max(0, cutAt + CUT_MS - Date.now()));
    const uploadedDuringCut = burst.accepted - uploadedBeforeCut;
    const again = await startFaas('api', sc.dir, env);
    procs.push(again);
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, { expected: N, timeoutMs: 120_000 });
    const dead = await deadLetters(again.url as string, fn);
    report('5 bucket events cut for 10 s', {
      N,
      cut: seconds(cutAt, again.readyAt),
      recovery: seconds(again.readyAt, effect.lastOutputAt),
      uploadedDuringCut,
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      missing: `[${missing(burst, effect, cutAt)}]`,
    });
    expect(uploadedDuringCut).toBeGreaterThan(0);
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
  }, 200_000);
});
