/** Wall-clock time in milliseconds with sub-millisecond resolution, comparable across processes. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * Epoch milliseconds with microseconds: comparable with Redis MONITOR timestamps and with
 * `Date.now()` in other processes (and containers) on this host.
 */
export const now = () => performance.timeOrigin + performance.now();

/** @param {number} ms */
export const sleep = (ms) => sleepFor(ms);

/**
 * Polls `check` every `everyMs` until it returns something other than undefined.
 * @template T
 * @param {string} what named in the error when time runs out
 * @param {() => Promise<T | undefined>} check
 * @param {{ timeoutMs?: number, everyMs?: number }} [o]
 * @returns {Promise<T>}
 */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Resolves with `promise`'s value, or with `fallback` after `ms` (the timer is cleared either way).
 * @template T, F
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {F} fallback
 * @returns {Promise<T | F>}
 */
export async function within(promise, ms, fallback) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return /** @type {T | F} */ (await Promise.race([promise, late]));
  } finally {
    clearTimeout(timer);
  }
}
