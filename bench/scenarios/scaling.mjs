/**
 * Scale-out and scale-in: a backlog of async invokes to a function with no container (min 0),
 * sampled every 50 ms from the platform's `faas_containers` gauge until it is back to zero.
 * A sample's time is when its /metrics answer arrived: the gauge is read at the end of the
 * request, and the request queues behind the burst of invokes like any other work.
 */
import { now, sleep, waitFor } from '../lib/clock.mjs';
import { bounded, invoke } from '../lib/http.mjs';
import { liveCount } from '../lib/platform.mjs';
import { finishedCount } from '../lib/redis.mjs';

/**
 * @param {import('../lib/platform.mjs').Platform} p
 * @param {string} fn a function with scale { min: 0 } and a handler that takes a while
 * @param {{ backlog: number, redis: import('ioredis').Redis, queueKey: string, everyMs?: number }} o
 */
export async function scaleOutAndIn(p, fn, o) {
  const everyMs = o.everyMs ?? 50;
  await waitFor(`${fn} to have no container`, async () =>
    liveCount(await p.containers(fn)) + ((await p.containers(fn)).stopping ?? 0) === 0 ? true : undefined,
  );
  const before = (await finishedCount(o.redis, o.queueKey)).total;
  /** @type {Array<{ t: number, ready: number, live: number, all: number }>} */
  const samples = [];
  let sampling = true;
  let drainedAt = NaN;
  const t0 = now();
  const sampler = (async () => {
    while (sampling) {
      const next = now() + everyMs;
      const [byState, done] = await Promise.all([p.containers(fn), finishedCount(o.redis, o.queueKey)]);
      const t = now() - t0;
      const live = liveCount(byState);
      samples.push({ t, ready: byState.ready ?? 0, live, all: live + (byState.stopping ?? 0) });
      if (Number.isNaN(drainedAt) && done.total >= before + o.backlog) drainedAt = t;
      if (!Number.isNaN(drainedAt) && live + (byState.stopping ?? 0) === 0) return;
      if (t > 120_000) throw new Error(`${fn} did not scale back to zero within 120 s`);
      await sleep(Math.max(0, next - now()));
    }
  })();
  const refused = await bounded(o.backlog, 64, async () => {
    const r = await invoke(p.url, fn, {}, { async: true });
    if (r.status !== 202) throw new Error(`async invoke answered ${r.status}`);
  });
  const acceptedMs = now() - t0;
  try {
    await sampler;
  } finally {
    sampling = false;
  }
  if (refused) throw new Error(`${refused} of ${o.backlog} async invokes were refused`);
  const maxReady = Math.max(...samples.map((s) => s.ready));
  const firstReady = samples.find((s) => s.ready >= 1)?.t ?? NaN;
  const atMax = samples.find((s) => s.ready === maxReady)?.t ?? NaN;
  const zeroAt = samples.find((s) => s.t >= drainedAt && s.all === 0)?.t ?? NaN;
  return {
    firstContainerMs: firstReady,
    firstExistingMs: samples.find((s) => s.live >= 1)?.t ?? NaN,
    zeroToMaxS: atMax / 1000,
    maxContainers: maxReady,
    drainedAtS: drainedAt / 1000,
    drainToZeroS: (zeroAt - drainedAt) / 1000,
    acceptedMs,
    samples: samples.length,
  };
}
