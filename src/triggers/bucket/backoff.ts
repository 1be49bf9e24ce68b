/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`. */
export interface BackoffOptions {
  /** @defaultValue 200 */
  initialMs: number;
  /** @defaultValue 10000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/**
 * The wait before reconnect attempt `attempt` (1 for the first): the exponential step, of which a
 * random half is jitter so that listeners dropped together do not return together. Pure: the
 * random number is passed in.
 * @example backoffDelay(3, DEFAULT_BACKOFF, 0.5) // 600
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: number): number {
  const step = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random);
}
