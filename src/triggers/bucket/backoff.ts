import { backoffDelay } from '../../util/backoff.js';

/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`. */
export interface BackoffOptions {
  /** @defaultValue 200 */
  initialMs: number;
  /** @defaultValue 10000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/**
 * The wait before reconnect attempt `attempt` (1 for the first), with jitter so that listeners
 * dropped together do not return together.
 * @example reconnectDelay(3, DEFAULT_BACKOFF, 0.5) // 600
 */
export function reconnectDelay(attempt: number, opts: BackoffOptions, random: number): number {
  return backoffDelay(attempt, opts.initialMs, opts.maxMs, random);
}
