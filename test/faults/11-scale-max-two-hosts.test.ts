/**
 * Fault 11: scale.max over two worker hosts, each a `faas worker` with its own Docker engine (the
 * second started by scripts/second-engine.sh for this file), both with room for more than the
 * function's max.
 * (a) A burst of one function with `scale.max: 3`: the containers on both engines together
 *     never pass 3 (sampled from each engine by the platform's labels), and both hosts run jobs.
 * (b) The second engine loses the runtime image (its starts fail at once, while it still
 *     answers): that host backs off instead of starting containers in a loop, hands the jobs
 *     it took back to the queue without spending their attempts, and the first host runs them all.
 * Run alone: `npm run build && npx vitest run test/faults/11-scale-max-two-hosts.test.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordStore, type InvocationRecord } from '../../src/queue/records.js';
import { config, requireRedis } from '../helpers/services.js';
import {
  deadLetters,
  inputKeys,
  keyedManifest,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  sleep,
  startFaas,
  stopAll,
  scenario,
  secondEngine,
  FAST_TAKEOVER_ENV,
  type FaasProcess,
} from './harness.js';

const MAX = 3;
/** Each host could run twice the function's max on its own. */
const HOST_CAP = 6;
const N_BURST = 300;
const N_REFUSED = 200;

interface Rec {
  id: string;
  container?: string;
  attempts: number;
}

async function records(ids: string[]): Promise<Rec[]> {
  const redis = await requireRedis();
  try {
    // Records under their own keys, and those carried in their jobs' completions.
    const all = await new RecordStore(redis, 60).getMany(ids);
    return all.filter((r): r is InvocationRecord => r !== undefined) as Rec[];
  } finally {
    redis.disconnect();
  }
}

const ranOn = (r: Rec, host: FaasProcess) => (r.container ?? '').startsWith(`faas-${host.instance}-`);

/** A function's containers on an engine, in any state (created, running, exited, not yet removed). */
async function fnContainers(docker: Docker, fn: string): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`faas.function=${fn}`] } })).length;
}

/** Samples both engines every 100 ms until stopped: the most containers seen at once, in all and on each. */
function sampler(engines: [Docker, Docker], fn: string) {
  const peak = { total: 0, a: 0, b: 0, samples: 0, bothAtOnce: 0 };
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const [a, b] = await Promise.all(engines.map((e) => fnContainers(e, fn)));
      peak.samples++;
      peak.total = Math.max(peak.total, (a as number) + (b as number));
      peak.a = Math.max(peak.a, a as number);
      peak.b = Math.max(peak.b, b as number);
      if ((a as number) > 0 && (b as number) > 0) peak.bothAtOnce++;
      await sleep(100);
    }
  })();
  return {
    peak,
    stop: async () => {
      stopped = true;
      await done;
      return peak;
    },
  };
}

async function removeContainers(docker: Docker, instances: string[]): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: ['faas.platform'] } });
  await Promise.all(
    list
      .filter((c) => instances.includes(c.Labels['faas.instance'] ?? ''))
      .map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
  );
}

describe('fault 11: scale.max counts a function’s containers on both hosts', () => {
  const fn = shortName('cap');
  const out = shortName('cap-out');
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () =>
      keyedManifest(fn, {
        out,
        delayMs: 800,
        timeout: '10s',
        scale: `{ min: 0, max: ${MAX}, idleTimeout: 5s }`,
        retry: '{ attempts: 3, backoff: 200ms, maxBackoff: 2s }',
      }).replace('concurrency: 8', 'concurrency: 2'),
  });
  const { procs } = sc;
  let engineDir = '';
  let engine2: Docker;
  const engine1 = new Docker();
  let api: FaasProcess;
  let hostA: FaasProcess;
  let hostB: FaasProcess;
  const emptyDirs: string[] = [];

  const host = async (dockerHost: string): Promise<FaasProcess> => {
    const cwd = await mkdtemp(join(tmpdir(), 'faas-host-'));
    emptyDirs.push(cwd);
    const w = await startFaas(
      'worker',
      sc.dir,
      {
        REDIS_URL: config.REDIS_URL,
        S3_ENDPOINT: config.S3_ENDPOINT,
        S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID,
        S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY,
        FAAS_STATE_DIR: join(cwd, 'state'),
        DOCKER_HOST: dockerHost,
        FAAS_MAX_CONTAINERS: String(HOST_CAP),
        // Every container is then started for the function and labelled with it (a pre-warmed
        // generic one carries no function label), so the engines' lists count them all.
        FAAS_PREWARM: '0',
        ...FAST_TAKEOVER_ENV,
      },
      { cwd },
    );
    procs.push(w);
    return w;
  };

  beforeAll(async () => {
    engineDir = await mkdtemp(join(tmpdir(), 'faas-eng2-'));
    await secondEngine('up', engineDir);
    engine2 = new Docker({ socketPath: join(engineDir, 'docker.sock') });
    api = await startFaas('api', sc.dir);
    procs.push(api);
    [hostA, hostB] = await Promise.all([
      host('unix:///var/run/docker.sock'),
      host(`unix://${join(engineDir, 'docker.sock')}`),
    ]);
  }, 240_000);

  afterAll(async () => {
    await stopAll([hostB], 30_000).catch(() => undefined);
    if (engine2) await removeContainers(engine2, [hostB.instance]).catch(() => undefined);
    try {
      if (engineDir) await secondEngine('down', engineDir);
    } catch (err) {
      console.error(`[faults] 11: ${(err as Error).message}`);
    } finally {
      for (const d of emptyDirs) await rm(d, { recursive: true, force: true });
    }
  }, 180_000);

  it(`(a) a burst of a function with scale.max ${MAX}: never more than ${MAX} containers on the two engines together, both hosts take work`, async () => {
    const keys = inputKeys('a-', N_BURST);
    const t0 = Date.now();
    const watch = sampler([engine1, engine2], fn);
    const burst = sendInvokes(api.url as string, fn, keys, 5);
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'a-',
      expected: N_BURST,
      timeoutMs: 300_000,
    });
    const peak = await watch.stop();
    const recs = await records([...burst.ids.values()]);
    const onA = recs.filter((r) => ranOn(r, hostA)).length;
    const onB = recs.filter((r) => ranOn(r, hostB)).length;
    report(`11a scale.max ${MAX} over two hosts`, {
      N: N_BURST,
      onA,
      onB,
      peakTotal: peak.total,
      peakA: peak.a,
      peakB: peak.b,
      samples: peak.samples,
      samplesWithBoth: peak.bothAtOnce,
      took: seconds(t0, effect.lastOutputAt),
      duplicates: effect.duplicates,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(counts.failed).toBe(0);
    expect(peak.samples).toBeGreaterThan(50);
    expect(peak.total).toBeGreaterThan(0);
    expect(peak.total).toBeLessThanOrEqual(MAX);
    expect(onA + onB).toBe(N_BURST);
    expect(onA).toBeGreaterThan(0);
    expect(onB).toBeGreaterThan(0);
    expect(peak.a).toBeGreaterThan(0);
    expect(peak.b).toBeGreaterThan(0);
  }, 420_000);

  it('(b) the second engine loses the runtime image: its host backs off, hands its jobs back, the first host runs them all', async () => {
    // Its containers of (a) idle out first, so that every start it tries now needs the image.
    await settleIdle(engine2, fn);
    const images = (await engine2.listImages()).filter((i) =>
      (i.RepoTags ?? []).some((t) => t.startsWith('faas-runtime:')),
    );
    expect(images.length).toBeGreaterThan(0);
    for (const i of images) await engine2.getImage(i.Id).remove({ force: true });
    const failedBefore = failedStartTimes(hostB).length;
    const keys = inputKeys('r-', N_REFUSED);
    const t0 = Date.now();
    const watch = sampler([engine1, engine2], fn);
    const burst = sendInvokes(api.url as string, fn, keys, 5);
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'r-',
      expected: N_REFUSED,
      timeoutMs: 300_000,
    });
    const peak = await watch.stop();
    const tookS = (effect.lastOutputAt - t0) / 1000;
    const recs = await records([...burst.ids.values()]);
    const dead = await deadLetters(api.url as string, fn);
    const failed = failedStartTimes(hostB).slice(failedBefore);
    const tries = rounds(failed);
    const handedBack = (hostB.output().match(/job handed back to the queue/g) ?? []).length;
    report('11b second engine without its image', {
      N: N_REFUSED,
      onA: recs.filter((r) => ranOn(r, hostA)).length,
      onB: recs.filter((r) => ranOn(r, hostB)).length,
      failedStartsOnB: failed.length,
      roundsOfTriesOnB: tries,
      handedBack,
      retried: recs.filter((r) => r.attempts > 1).length,
      peakTotal: peak.total,
      took: seconds(t0, effect.lastOutputAt),
      deadLetters: dead.length,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(counts.failed).toBe(0);
    expect(dead).toEqual([]);
    expect(recs.every((r) => ranOn(r, hostA))).toBe(true);
    // Handed back, not failed: no job spent an attempt on the host that could not run it.
    expect(recs.every((r) => r.attempts === 1)).toBe(true);
    expect(tries).toBeGreaterThan(0);
    // Pauses of 1 s doubling to 30 s: a few rounds of tries over the burst, never one per job.
    // Bounded by the number of pauses that fit in the burst's time (each at least half its
    // step), and each round by the starts scale.max allows at once.
    expect(tries).toBeLessThanOrEqual(maxTries(tookS));
    expect(failed.length).toBeLessThanOrEqual(tries * MAX);
    expect(peak.total).toBeLessThanOrEqual(MAX);
  }, 420_000);
});

/** Waits until the function has no container left on `docker` (the idle timeout is 5 s). */
async function settleIdle(docker: Docker, fn: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await fnContainers(docker, fn)) > 0) {
    if (Date.now() > deadline) throw new Error(`containers of ${fn} still on the engine after 60 s`);
    await sleep(250);
  }
}

/** When the host reported each container start that failed (one log line each), in order. */
function failedStartTimes(p: FaasProcess): number[] {
  return p
    .output()
    .split('\n')
    .filter((line) => line.includes('container failed to become ready'))
    .map((line) => Date.parse((JSON.parse(line) as { time: string }).time));
}

/**
 * Rounds of tries among failed starts: starts asked for together (the autoscaler may start
 * several containers at once) fail within moments of each other; the next round comes after a
 * pause.
 */
function rounds(times: number[]): number {
  return times.filter((t, i) => i === 0 || t - (times[i - 1] as number) > 500).length;
}

/** The most starts a backoff of 1 s doubling to 30 s (each pause at least half its step) allows in `s` seconds. */
function maxTries(s: number): number {
  let t = 0;
  let n = 0;
  let step = 1;
  while (t <= s) {
    n++;
    t += step / 2;
    step = Math.min(30, step * 2);
  }
  return n;
}
