import { backoffDelay } from '../util/backoff.js';

/** The first pause after a container start the engine refused. */
export const START_BACKOFF_BASE_MS = 1000;
/** The longest pause between two tries of an engine that keeps refusing. */
export const START_BACKOFF_MAX_MS = 30_000;

/**
 * Container starts that failed on this host's engine (it is stopped, an image is missing): after
 * each failure no container of that kind starts again until a growing pause has passed, so a
 * host whose engine refuses every start tries once in a while instead of in a tight loop. One
 * start that succeeds ends the pause. Keys are a function's name, or `generic:<runtime>` for the
 * warm generic containers. Time and randomness are passed in.
 */
export class StartBackoff {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly baseMs = START_BACKOFF_BASE_MS,
    private readonly maxMs = START_BACKOFF_MAX_MS,
  ) {}

  /** Records a failed start; returns how long starts of `key` now wait. */
  failed(key: string, now: number, random: number): number {
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    const delay = backoffDelay(count, this.baseMs, this.maxMs, random);
    this.failures.set(key, { count, until: now + delay });
    return delay;
  }

  /** A start of `key` succeeded: the engine takes them again. */
  succeeded(key: string): void {
    this.failures.delete(key);
  }

  /** How long starts of `key` must still wait (0: they may start now). */
  waitFor(key: string, now: number): number {
    const f = this.failures.get(key);
    return f ? Math.max(0, f.until - now) : 0;
  }

  /** Consecutive failed starts of `key`. */
  failuresOf(key: string): number {
    return this.failures.get(key)?.count ?? 0;
  }
}
