/**
 * Runs at most `max` tasks at once; the rest wait in the order they came.
 * @example const starts = new Limiter(8); await starts.run(() => engine.start(spec));
 */
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a limiter needs max ≥ 1, got ${max}`);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a turn. */
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // The turn passes straight to the next task: `active` stays counted for it.
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
