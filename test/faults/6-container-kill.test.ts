/**
 * Fault 6: a function container killed from outside the platform (`docker kill`, found by its
 * labels) while it runs invocations. Each invocation it held fails with kind `container-lost`,
 * is retried on another container, and the effect is one output per input.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import {
  containersOf,
  deadLetters,
  dockerKill,
  inputKeys,
  keyedManifest,
  publishedPool,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  startFaas,
  until,
  type PooledContainer,
  scenario,
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
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () => keyedManifest(fn, { out, delayMs: 400 }),
  });
  const { procs } = sc;

  it('the invocations it held fail as container-lost, are retried, and outputs equal inputs', async () => {
    const p = await startFaas('up', sc.dir, { FAAS_PORT: String(await freePort()) });
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
    const { effect, counts } = await settle(sc.s3, out, fn, { expected: N, timeoutMs: 120_000 });
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
