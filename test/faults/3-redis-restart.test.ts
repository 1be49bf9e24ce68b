/**
 * Fault 3: Redis restarted during a burst (`redis-cli shutdown`, which persists the append-only
 * file, then `services-up.sh`; on a Redis Cluster, every node of it). The platform process stays
 * up and reconnects by itself: `/healthz` answers 503 `degraded` while Redis is down and 200
 * after; invokes during the outage get 503 (not accepted), and the sender retries them; every
 * accepted event completes.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import {
  deadLetters,
  ensureServices,
  inputKeys,
  keyedManifest,
  redisUp,
  report,
  seconds,
  sendInvokes,
  servicesUp,
  settle,
  shutdownRedis,
  shortName,
  sleep,
  startFaas,
  until,
  scenario,
} from './harness.js';

const N = 200;
/** How long Redis stays down once it has stopped. */
const OUTAGE_MS = 4000;

interface Probe {
  at: number;
  /** HTTP status, or 0 when /healthz did not answer within 3 s. */
  status: number;
  ms: number;
}

/** Polls /healthz every 200 ms until stopped. */
function watchHealth(url: string): { probes: Probe[]; stop: () => Promise<void> } {
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      probes.push({ at, status, ms: Date.now() - at });
      await sleep(200);
    }
  })();
  return {
    probes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('fault 3: Redis restarted during a burst', () => {
  const fn = shortName('redis');
  const out = shortName('fault3-out');
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () => keyedManifest(fn, { out, delayMs: 200 }),
  });
  const { procs } = sc;

  it('reconnects without a restart: 503 while down, ok after, every accepted event completes', async () => {
    const p = await startFaas('up', sc.dir, { FAAS_PORT: String(await freePort()) });
    procs.push(p);
    const url = p.url as string;
    const keys = inputKeys('r-', N);
    const burst = sendInvokes(url, fn, keys, 40);
    const health = watchHealth(url);
    let downAt = 0;
    let restartAt = 0;
    let upAt = 0;
    try {
      await until('a third of the burst', () => burst.started >= N / 3, 60_000);
      await shutdownRedis();
      await until('Redis to stop', async () => !(await redisUp()), 10_000);
      downAt = Date.now();
      // The outage itself: events keep coming, /healthz is probed throughout.
      await sleep(OUTAGE_MS);
      // Redis answers again partway through services:up (which goes on to check MinIO and the
      // image): only probes sent before the restart began were surely sent while it was down.
      restartAt = Date.now();
      await servicesUp();
      upAt = Date.now();
      await until(
        '/healthz to report ok again',
        () => health.probes.some((h) => h.at >= upAt && h.status === 200),
        30_000,
      );
    } finally {
      await health.stop();
      await ensureServices();
    }
    await burst.done;
    const { effect, counts } = await settle(sc.s3, out, fn, { expected: N, timeoutMs: 120_000 });
    const dead = await deadLetters(url, fn);
    // Probes sent while Redis was down: each should have been answered 503 at once.
    const during = health.probes.filter((h) => h.at >= downAt && h.at < restartAt);
    const okAgain = health.probes.find((h) => h.at >= upAt && h.status === 200) as Probe;
    report('3 Redis restart during a burst', {
      N,
      outage: seconds(downAt, upAt),
      recovery: seconds(upAt, effect.lastOutputAt),
      healthOkAfter: seconds(upAt, okAgain.at),
      healthWhileDown: `${[...new Set(during.map((h) => h.status))].join('/')} (${during.length} probes, slowest ${Math.max(0, ...during.map((h) => h.ms))}ms)`,
      inputs: burst.accepted,
      outputs: effect.outputs.length,
      deadLetters: dead.length,
      executions: effect.executions,
      duplicates: effect.duplicates,
      rejected503: burst.rejected,
    });
    expect(p.alive()).toBe(true);
    // While Redis was down, /healthz answered 503 (0: no answer within 3 s), and invokes were refused.
    expect(during.length).toBeGreaterThan(0);
    expect(during.map((h) => h.status)).toEqual(during.map(() => 503));
    expect(burst.rejected).toBeGreaterThan(0);
    expect(burst.unexpected).toEqual([]);
    expect(effect.outputs).toEqual(keys);
    expect(dead).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(await p.stop()).toBe(0);
  }, 200_000);
});
