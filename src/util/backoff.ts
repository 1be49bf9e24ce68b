/**
 * Exponential backoff with "equal jitter": the step doubles from `baseMs` up to `maxMs`, and a
 * random half of it is jitter, so that many retries started together do not return together.
 * Pure: the random number in [0, 1) is passed in.
 * @param attempt 1 for the first retry
 * @example backoffDelay(3, 1000, 60000, 0.5) // 3000
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random);
}
