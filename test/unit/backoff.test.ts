import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/util/backoff.js';

const BASE = 1000;
const MAX = 60_000;
/** The largest double below 1: `random` is in [0, 1). */
const ALMOST_ONE = 1 - Number.EPSILON / 2;

describe('backoffDelay', () => {
  // With random fixed at ALMOST_ONE the delay is the full exponential value.
  const growth: Array<[number, number]> = [
    [0, 1000], // before any failure: clamps to the base
    [1, 1000], // first retry uses the base
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 32_000],
    [7, 60_000], // 64 000 capped
    [8, 60_000],
    [30, 60_000],
  ];

  it.each(growth)('attempt %i with random→1 waits the full %i ms', (attempts, expected) => {
    expect(backoffDelay(attempts, BASE, MAX, ALMOST_ONE)).toBe(expected);
  });

  it.each(growth)('attempt %i with random 0 waits half of %i ms', (attempts, full) => {
    expect(backoffDelay(attempts, BASE, MAX, 0)).toBe(full / 2);
  });

  const jitter: Array<[number, number, number]> = [
    [3, 0, 2000],
    [3, 0.25, 2500],
    [3, 0.5, 3000], // the doc comment's example
    [3, 0.75, 3500],
    [1, 0.5, 750],
    [10, 0.5, 45_000],
  ];

  it.each(jitter)('attempt %i with random %d waits %i ms', (attempts, random, expected) => {
    expect(backoffDelay(attempts, BASE, MAX, random)).toBe(expected);
  });

  it.each([1, 2, 3, 5, 7, 12])('attempt %i stays within [exp/2, exp] for any random', (attempts) => {
    const exp = Math.min(MAX, BASE * 2 ** (attempts - 1));
    for (const r of [0, 0.1, 0.3, 0.5, 0.9, 0.999, ALMOST_ONE]) {
      const d = backoffDelay(attempts, BASE, MAX, r);
      expect(d).toBeGreaterThanOrEqual(exp / 2);
      expect(d).toBeLessThanOrEqual(exp);
    }
  });

  it('a max below the base caps even the first attempt', () => {
    expect(backoffDelay(1, 5000, 2000, ALMOST_ONE)).toBe(2000);
    expect(backoffDelay(1, 5000, 2000, 0)).toBe(1000);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffDelay(1, 3, 1000, 0)).toBe(2); // 1.5 rounds up
    expect(Number.isInteger(backoffDelay(2, 333, 10_000, 0.123))).toBe(true);
  });
});
