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
 * The same sync invokes against two servers, alternating invoke by invoke (a, b, a, b, ...), each
 * timed on its own: both see the machine in the same state, however its speed drifts.
 * @param {{ base: string, fn: string }} a
 * @param {{ base: string, fn: string }} b
 * @param {{ warmup: number, count: number }} o
 */
export async function interleavedLatency(a, b, { warmup, count }) {
  for (let i = 0; i < warmup; i++) {
    await expectOk(a.base, a.fn);
    await expectOk(b.base, b.fn);
  }
  /** @type {number[]} */
  const as = [];
  /** @type {number[]} */
  const bs = [];
  for (let i = 0; i < count; i++) {
    let t0 = now();
    await expectOk(a.base, a.fn);
    as.push(now() - t0);
    t0 = now();
    await expectOk(b.base, b.fn);
    bs.push(now() - t0);
  }
  return { a: quantile(as, 0.5), b: quantile(bs, 0.5) };
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
