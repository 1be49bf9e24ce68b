/** Cold starts: the first invocation of functions that were never called, and a naive `docker run`. */
import { now, sleep, waitFor } from '../lib/clock.mjs';
import { timeDockerRun } from '../lib/docker.mjs';
import { call, invoke } from '../lib/http.mjs';
import { metricSamples } from '../lib/platform.mjs';

/**
 * Invokes each never-called function once (sync). With `prewarmed`, first waits until a generic
 * warm container is ready, so each call can take one; checks afterwards from the platform's
 * cold-start counter that it did (or did not) get a pre-warmed container.
 * @param {import('../lib/platform.mjs').Platform} p
 * @param {string[]} fns
 * @param {{ prewarmed: boolean }} o
 * @returns {Promise<{ e2e: number[], recordMs: number[], mismatched: string[] }>}
 */
export async function coldStarts(p, fns, { prewarmed }) {
  const e2e = [];
  const recordMs = [];
  for (const fn of fns) {
    if (prewarmed)
      await waitFor('a ready generic container', async () =>
        ((await p.containers('')).generic ?? 0) >= 1 ? true : undefined,
      );
    // Let the engine settle after the last container start.
    await sleep(300);
    const t0 = now();
    const r = await invoke(p.url, fn);
    e2e.push(now() - t0);
    if (r.status !== 200) {
      // What the platform knows of it now: was it run (and the answer lost), or never run?
      const id = r.headers['x-faas-invocation-id'];
      const now = id ? (await call('GET', `${p.url}/invocations/${id}`)).body.slice(0, 600) : '';
      throw new Error(
        `invoke ${fn} answered ${r.status} after ${Math.round(e2e.at(-1) ?? 0)} ms: ${r.body}; record: ${now}`,
      );
    }
    const rec = JSON.parse(
      (await call('GET', `${p.url}/invocations/${r.headers['x-faas-invocation-id']}`)).body,
    );
    if (!rec.cold) throw new Error(`the first invocation of ${fn} was not cold`);
    recordMs.push(rec.timings.leaseMs + rec.timings.durationMs);
  }
  // The counter tells whether each cold start took a pre-warmed container.
  const counted = metricSamples(await p.metrics(), 'faas_cold_starts_total');
  const mismatched = fns.filter(
    (fn) =>
      !counted.some(
        (s) => s.labels.function === fn && s.labels.prewarmed === String(prewarmed) && s.value === 1,
      ),
  );
  return { e2e, recordMs, mismatched };
}

/** A no-op handler run the naive way: `node -e` in a fresh container. */
export const NAIVE_HANDLER =
  'const handler = async () => ({ ok: true }); handler({}).then((r) => console.log(JSON.stringify(r)));';

/**
 * @param {string} image
 * @param {number} reps
 * @param {string} label
 */
export async function dockerRuns(image, reps, label) {
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(await timeDockerRun(image, NAIVE_HANDLER, label));
  return ms;
}
