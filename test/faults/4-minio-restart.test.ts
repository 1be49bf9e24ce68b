/**
 * Fault 4: MinIO restarted while objects are being uploaded (its pid from the services' pid
 * file is killed, then `services-up.sh` starts it again on the same data and event queue).
 * Uploads that fail during the outage are retried by the uploader; invocations whose storage
 * calls fail are retried by the platform. Every uploaded object yields exactly one output.
 */
import { describe, expect, it } from 'vitest';
import {
  deadLetters,
  ensureServices,
  eventsEnv,
  inputKeys,
  keyedManifest,
  minioUp,
  missing,
  pidAlive,
  report,
  seconds,
  servicePid,
  servicesUp,
  settle,
  shortName,
  startFaas,
  until,
  uploadKeys,
  scenario,
} from './harness.js';

const N = 200;

describe('fault 4: MinIO restarted during uploads', () => {
  const fn = shortName('minio');
  const input = shortName('fault4-in');
  const out = shortName('fault4-out');
  // Retries that outlast a MinIO restart: about 25 s of backoff over 10 attempts.
  const sc = scenario({
    fns: [fn],
    buckets: [input, out],
    manifest: () =>
      keyedManifest(fn, {
        out,
        delayMs: 100,
        retry: '{ attempts: 10, backoff: 500ms, maxBackoff: 4s }',
        trigger: input,
      }),
  });
  const { procs } = sc;

  it('every uploaded object yields exactly one output', async () => {
    const p = await startFaas('up', sc.dir, await eventsEnv());
    procs.push(p);
    const keys = inputKeys('m-', N);
    const burst = uploadKeys(sc.s3, input, keys, 30);
    let downAt = 0;
    let upAt = 0;
    let killAt = 0;
    try {
      await until('a third of the uploads', () => burst.accepted >= N / 3, 60_000);
      const pid = await servicePid('minio');
      process.kill(pid, 'SIGTERM');
      killAt = Date.now();
      await until('MinIO to exit', () => !pidAlive(pid), 30_000);
      downAt = Date.now();
      await servicesUp();
      upAt = Date.now();
      expect(await minioUp()).toBe(true);
    } finally {
      await ensureServices();
    }
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, { expected: N, timeoutMs: 90_000 });
    const dead = await deadLetters(p.url as string, fn);
    report('4 MinIO restart during uploads', {
      N,
      outage: seconds(killAt, upAt),
      exitTook: seconds(killAt, downAt),
      recovery: seconds(upAt, effect.lastOutputAt),
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      uploadRetries: burst.rejected,
      missing: `[${missing(burst, effect, killAt)}]`,
    });
    expect(burst.rejected).toBeGreaterThan(0);
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(await p.stop()).toBe(0);
  }, 200_000);
});
