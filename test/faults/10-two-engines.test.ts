/**
 * Fault 10: two worker hosts, each a `faas worker` with its own Docker engine (the second one
 * started by scripts/second-engine.sh for this file), started as a host joins a cluster: in an
 * empty folder, without a manifest, with only connection settings; the API (a third process)
 * deployed the function, so the hosts get its code from the store.
 * (a) A burst of one function is shared by the hosts in proportion to their caps, and the
 *     function's pool spans both engines at once.
 * (b) The second host's `faas worker` killed with SIGKILL mid-burst: its in-flight jobs run on
 *     the first host after the lock margin; every job completes exactly once in effect.
 * (c) The second host's Docker engine stopped mid-burst (its worker process stays alive): its
 *     invocations fail over to the first host, and the host shows as unhealthy in /status.
 * Run alone: `npm run build && npx vitest run test/faults/10-two-engines.test.ts`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
  pidAlive,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  sleep,
  stalledJobs,
  startFaas,
  stopAll,
  until,
  scenario,
  secondEngine,
  FAST_TAKEOVER_ENV,
  type Burst,
  type FaasProcess,
} from './harness.js';

/** Each host's cap (FAAS_MAX_CONTAINERS): the burst should split 1 : 2. */
const CAP_A = 3;
const CAP_B = 6;
const N_SPLIT = 2000;
const N_FAULT = 1000;

interface Rec {
  id: string;
  status: string;
  container?: string;
  attempts: number;
  timings: { finishedAt?: number };
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

/** Containers of a function on an engine, per platform instance. */
async function fnContainers(docker: Docker, fn: string, instance: string): Promise<number> {
  const list = await docker.listContainers({ filters: { label: [`faas.function=${fn}`] } });
  return list.filter((c) => c.Labels['faas.instance'] === instance).length;
}

async function removeContainers(docker: Docker, instances: string[]): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: ['faas.platform'] } });
  const mine = list.filter((c) => instances.includes(c.Labels['faas.instance'] ?? ''));
  await Promise.all(
    mine.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return mine.length;
}

describe('fault 10: two worker hosts on two Docker engines', () => {
  /** The burst that is shared: a 1.5 s handler, 2 at a time per container (slots 6 and 12). */
  const split = shortName('eng-split');
  /** The faults' function: a 300 ms handler, 8 at a time per container. */
  const fn = shortName('eng');
  const out = shortName('eng-out');
  const sc = scenario({
    fns: [split, fn],
    buckets: [out],
    manifest: () =>
      keyedManifest(fn, {
        out,
        delayMs: 300,
        timeout: '5s',
        scale: `{ min: 0, max: ${CAP_A + CAP_B}, idleTimeout: 5s }`,
        retry: '{ attempts: 5, backoff: 200ms, maxBackoff: 2s }',
      }) +
      (keyedManifest(split, {
        out,
        delayMs: 1500,
        timeout: '10s',
        scale: `{ min: 0, max: ${CAP_A + CAP_B}, idleTimeout: 5s }`,
      })
        .replace('concurrency: 8', 'concurrency: 2')
        .split('functions:\n')[1] as string),
  });
  const { procs } = sc;
  let engineDir = '';
  let engine2: Docker;
  const engine1 = new Docker();
  let api: FaasProcess;
  let hostA: FaasProcess;
  let hostB: FaasProcess;
  const hostsOnEngine2: FaasProcess[] = [];
  const emptyDirs: string[] = [];

  /** A worker host as it joins: an empty folder, connection settings, its engine and cap. */
  const host = async (dockerHost: string, cap: number): Promise<FaasProcess> => {
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
        FAAS_MAX_CONTAINERS: String(cap),
        ...FAST_TAKEOVER_ENV,
      },
      { cwd },
    );
    procs.push(w);
    return w;
  };
  const engine2Host = `unix://${'ENGINE'}/docker.sock`;

  beforeAll(async () => {
    engineDir = await mkdtemp(join(tmpdir(), 'faas-eng2-'));
    await secondEngine('up', engineDir);
    engine2 = new Docker({ socketPath: join(engineDir, 'docker.sock') });
    api = await startFaas('api', sc.dir);
    procs.push(api);
    [hostA, hostB] = await Promise.all([
      host('unix:///var/run/docker.sock', CAP_A),
      host(engine2Host.replace('ENGINE', engineDir), CAP_B),
    ]);
    hostsOnEngine2.push(hostB);
  }, 240_000);

  afterAll(async () => {
    // The second engine's hosts first (their pool removes their containers while the engine is
    // up), then what is left on it, then the engine and its folder.
    await stopAll(hostsOnEngine2, 30_000).catch(() => undefined);
    if (engine2)
      await removeContainers(
        engine2,
        hostsOnEngine2.map((p) => p.instance),
      ).catch(() => 0);
    // Never throws: the scenario's own cleanup (processes, queues, buckets) must still run.
    try {
      if (engineDir) await secondEngine('down', engineDir);
    } catch (err) {
      console.error(`[faults] 10: ${(err as Error).message}`);
    } finally {
      for (const d of emptyDirs) await rm(d, { recursive: true, force: true });
    }
  }, 180_000);

  it('(a) a 2,000-job burst is shared in proportion to the hosts’ caps; the pool spans both engines', async () => {
    const keys = inputKeys('a-', N_SPLIT);
    const t0 = Date.now();
    const burst = sendInvokes(api.url as string, split, keys, 10);
    let spanned = { a: 0, b: 0 };
    const watching = (async () => {
      while (spanned.a === 0 || spanned.b === 0) {
        const [a, b] = await Promise.all([
          fnContainers(engine1, split, hostA.instance),
          fnContainers(engine2, split, hostB.instance),
        ]);
        if (a > 0 && b > 0) spanned = { a, b };
        if (Date.now() - t0 > 120_000) return;
        await sleep(200);
      }
      // The peak each engine reaches while both take part.
      for (let i = 0; i < 20; i++) {
        const [a, b] = await Promise.all([
          fnContainers(engine1, split, hostA.instance),
          fnContainers(engine2, split, hostB.instance),
        ]);
        spanned = { a: Math.max(spanned.a, a), b: Math.max(spanned.b, b) };
        await sleep(250);
      }
    })();
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, split, {
      prefix: 'a-',
      expected: N_SPLIT,
      timeoutMs: 400_000,
    });
    await watching;
    const recs = await records([...burst.ids.values()]);
    const onA = recs.filter((r) => ranOn(r, hostA)).length;
    const onB = recs.filter((r) => ranOn(r, hostB)).length;
    const expectedA = CAP_A / (CAP_A + CAP_B);
    const shareA = onA / (onA + onB);
    report('10a two engines, caps 3 and 6', {
      N: N_SPLIT,
      onA,
      onB,
      shareA: shareA.toFixed(3),
      expectedShareA: expectedA.toFixed(3),
      peakContainersA: spanned.a,
      peakContainersB: spanned.b,
      took: seconds(t0, effect.lastOutputAt),
      duplicates: effect.duplicates,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(counts.failed).toBe(0);
    expect(onA + onB).toBe(N_SPLIT);
    // Within 25 % of the caps' proportion (1 : 2), both ways.
    expect(Math.abs(shareA - expectedA) / expectedA).toBeLessThanOrEqual(0.25);
    const shareB = 1 - shareA;
    expect(Math.abs(shareB - (1 - expectedA)) / (1 - expectedA)).toBeLessThanOrEqual(0.25);
    expect(spanned.a).toBeGreaterThan(0);
    expect(spanned.b).toBeGreaterThan(0);
  }, 600_000);

  /** Waits for `doomed` to hold invocations mid-burst; returns the burst. */
  const midBurst = async (prefix: string, doomed: FaasProcess): Promise<{ burst: Burst; keys: string[] }> => {
    const keys = inputKeys(prefix, N_FAULT);
    const burst = sendInvokes(api.url as string, fn, keys, 3);
    await until(
      'the second host to hold invocations mid-burst',
      async () => {
        if (burst.started < N_FAULT / 3) return false;
        const recs = await records([...burst.ids.values()].slice(-200));
        return (await fnContainers(engine2, fn, doomed.instance)) > 0 && recs.some((r) => ranOn(r, doomed));
      },
      120_000,
    );
    return { burst, keys };
  };

  /** Jobs that were in flight on the lost host and completed on the survivor. */
  const recovered = async (burst: Burst, survivor: FaasProcess, lostAt: number) => {
    const ids = [...burst.ids.values()];
    const recs = await records(ids);
    // Retried jobs (an attempt failed on the lost host) that the survivor completed.
    const takenOver = recs.filter(
      (r) => r.attempts > 1 && ranOn(r, survivor) && (r.timings.finishedAt ?? 0) > lostAt,
    );
    return { recs, firstAfter: Math.min(...takenOver.map((r) => r.timings.finishedAt ?? Infinity)) };
  };

  it('(b) the second host’s worker killed with SIGKILL mid-burst: every job completes exactly once in effect', async () => {
    const { burst, keys } = await midBurst('k-', hostB);
    hostB.signal('SIGKILL');
    const killedAt = Date.now();
    expect(await hostB.exited).toBeNull();
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'k-',
      expected: N_FAULT,
      timeoutMs: 240_000,
    });
    const ids = [...burst.ids.values()];
    const stalledIds = (
      await Promise.all(ids.map(async (id) => ((await stalledJobs(fn, [id])) > 0 ? id : undefined)))
    ).filter((x): x is string => x !== undefined);
    const stalledRecs = await records(stalledIds);
    const firstTakeover = Math.min(...stalledRecs.map((r) => r.timings.finishedAt ?? Infinity));
    const dead = await deadLetters(api.url as string, fn);
    const recs = await records(ids);
    report('10b second host SIGKILL mid-burst', {
      N: N_FAULT,
      onKilledBeforeKill: recs.filter((r) => ranOn(r, hostB)).length,
      takenOver: stalledIds.length,
      firstTakenOverDone: seconds(killedAt, firstTakeover),
      burstComplete: seconds(killedAt, effect.lastOutputAt),
      executions: effect.executions,
      duplicates: effect.duplicates,
      deadLetters: dead.length,
    });
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(stalledIds.length).toBeGreaterThan(0);
    // Taken over by the survivor, on the other engine.
    expect(stalledRecs.every((r) => ranOn(r, hostA))).toBe(true);
  }, 420_000);

  it('(c) the second host’s Docker engine stopped mid-burst: its jobs fail over, the host shows unhealthy', async () => {
    // A new host on the second engine (it also sweeps the killed host's containers there).
    const hostB2 = await host(engine2Host.replace('ENGINE', engineDir), CAP_B);
    hostsOnEngine2.push(hostB2);
    await until(
      'the killed host’s containers on the second engine to be swept',
      async () =>
        (await engine2.listContainers({ all: true, filters: { label: [`faas.instance=${hostB.instance}`] } }))
          .length === 0,
      60_000,
    );
    const { burst, keys } = await midBurst('e-', hostB2);
    const pid = Number((await readFile(join(engineDir, 'dockerd.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGTERM');
    const stoppedAt = Date.now();
    await until('the second engine to stop', () => !pidAlive(pid), 60_000);
    const engineGoneAt = Date.now();
    let statusHosts: unknown;
    let unhealthyAt = 0;
    const watching = (async () => {
      while (Date.now() - stoppedAt < 60_000) {
        const s = (await fetch(`${api.url}/status`).then((r) => r.json())) as {
          hosts?: Array<{ id: string; up: boolean; healthy?: boolean }>;
        };
        const h = s.hosts?.find((x) => x.id === hostB2.instance);
        statusHosts = s.hosts;
        if (h && (h.up === false || h.healthy === false)) {
          unhealthyAt = Date.now();
          return;
        }
        await sleep(500);
      }
    })();
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, {
      prefix: 'e-',
      expected: N_FAULT,
      timeoutMs: 240_000,
    });
    await watching;
    const { recs, firstAfter } = await recovered(burst, hostA, stoppedAt);
    const dead = await deadLetters(api.url as string, fn);
    const retried = recs.filter((r) => r.attempts > 1);
    report('10c second engine stopped mid-burst', {
      N: N_FAULT,
      engineStopTook: seconds(stoppedAt, engineGoneAt),
      retried: retried.length,
      firstSurvivorDoneAfterStop: seconds(stoppedAt, firstAfter),
      burstComplete: seconds(stoppedAt, effect.lastOutputAt),
      unhealthyAfter: unhealthyAt ? seconds(stoppedAt, unhealthyAt) : 'never',
      workerAlive: String(hostB2.alive()),
      executions: effect.executions,
      duplicates: effect.duplicates,
      deadLetters: dead.length,
    });
    console.log(`[faults] 10c /status hosts: ${JSON.stringify(statusHosts)}`);
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(hostB2.alive()).toBe(true);
    expect(unhealthyAt).toBeGreaterThan(0);
  }, 420_000);
});
