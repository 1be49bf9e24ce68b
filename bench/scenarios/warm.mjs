/** Warm sync invokes: one at a time, end-to-end latency as the client sees it. */
import { now } from '../lib/clock.mjs';
import { invoke } from '../lib/http.mjs';
import { quantile } from '../lib/stats.mjs';

/**
 * Sends `warmup` unmeasured invokes, then `count` measured ones, strictly one after another.
 * Works on the platform and on the baseline server alike (the same route).
 * @param {string} base
 * @param {string} fn
 * @param {{ warmup: number, count: number }} o
 * @returns {Promise<{ p50: number, p99: number, samples: number[] }>}
 */
export async function warmLatency(base, fn, { warmup, count }) {
  for (let i = 0; i < warmup; i++) await expectOk(base, fn);
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    await expectOk(base, fn);
    samples.push(now() - t0);
  }
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), samples };
}

/**
 * @param {string} base
 * @param {string} fn
 */
async function expectOk(base, fn) {
  const r = await invoke(base, fn);
  if (r.status !== 200) throw new Error(`invoke ${fn} answered ${r.status}: ${r.body}`);
  return r;
}
