/**
 * Delay before the next attempt: exponential from `baseMs`, capped at `maxMs`, with "equal
 * jitter" (half fixed, half random) so retries of a burst do not arrive together.
 * @param attemptsMade attempts so far (1 after the first failure)
 * @param random a number in [0, 1)
 * @example backoffDelay(3, 1000, 60000, 0.5) // 3000
 */
export function backoffDelay(attemptsMade: number, baseMs: number, maxMs: number, random: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}
