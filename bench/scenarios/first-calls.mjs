/**
 * The first call of many functions at once: one sync invoke of each, all sent together (one
 * connection each), timed from the first send until the last has answered 200.
 */
import { Agent } from 'node:http';
import { now } from '../lib/clock.mjs';
import { invoke } from '../lib/http.mjs';

/**
 * @param {string} base the platform's URL
 * @param {string[]} fns functions never called before
 * @returns {Promise<{ allMs: number, p50Ms: number, failed: Array<{ fn: string, status: number, body: string }> }>}
 */
export async function firstCallsAtOnce(base, fns) {
  const via = new Agent({ keepAlive: false, maxSockets: Infinity });
  /** @type {number[]} */
  const done = [];
  /** @type {Array<{ fn: string, status: number, body: string }>} */
  const failed = [];
  try {
    const t0 = now();
    await Promise.all(
      fns.map(async (fn) => {
        const r = await invoke(base, fn, {}, { via }).catch((err) => ({ status: 0, body: err.message }));
        if (r.status === 200) done.push(now() - t0);
        else failed.push({ fn, status: r.status, body: r.body.slice(0, 300) });
      }),
    );
    done.sort((a, b) => a - b);
    return {
      allMs: failed.length ? NaN : (done.at(-1) ?? NaN),
      p50Ms: done[Math.floor(done.length / 2)] ?? NaN,
      failed,
    };
  } finally {
    via.destroy();
  }
}
