import type { FunctionSpec } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import type { Backlog } from '../queue/backlog.js';
import type { ScaleDecision } from './autoscale.js';
import type { Pool } from './pool.js';

export interface AutoscalerOptions {
  pool: Pool;
  /** The functions this host runs, read every round (deploys add and remove them). */
  functions: () => FunctionSpec[];
  /** The backlogs of these functions, in their order (one batched read per round). */
  backlogs: (fns: string[]) => Promise<Backlog[]>;
  /** Tells a function's worker how many jobs to hold at once (its pool's slots). */
  setConcurrency: (fn: string, n: number) => void;
  logger: Logger;
  /** How often to look at the queues. */
  intervalMs?: number;
}

/**
 * One loop for the host: reads every function's backlog, asks `decide` for the pool sizes, and
 * has the pool carry them out. Every decision that changes something is logged with its reason.
 */
export class Autoscaler {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private readonly log: Logger;
  /** The latest decision per function (for status and metrics). */
  readonly last = new Map<string, ScaleDecision & { backlog: Backlog }>();

  constructor(private readonly o: AutoscalerOptions) {
    this.log = o.logger.child({ component: 'autoscaler' });
  }

  start(): void {
    const every = this.o.intervalMs ?? 200;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** One round; rounds never overlap (a slow Redis skips ticks rather than piling them up). */
  async tick(now = Date.now()): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const functions = this.o.functions();
      const backlogs = await this.o.backlogs(functions.map((f) => f.name));
      if (this.stopped) return;
      functions.forEach((f, i) => this.o.pool.observe(f.name, backlogs[i] as Backlog));
      const decisions = this.o.pool.rescale(now);
      const byFn = new Map(functions.map((f, i) => [f.name, backlogs[i] as Backlog]));
      for (const d of decisions) {
        const backlog = byFn.get(d.fn);
        if (backlog) this.last.set(d.fn, { ...d, backlog });
        if (d.start > 0 || d.drain.length > 0) {
          this.log.info(
            {
              fn: d.fn,
              start: d.start,
              drain: d.drain.length,
              wanted: d.wanted,
              desired: d.desired,
              reason: d.reason,
            },
            d.start > 0 ? 'scale up' : 'scale down',
          );
        }
      }
      for (const f of functions) this.o.setConcurrency(f.name, Math.max(1, this.o.pool.slots(f.name)));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'autoscaler round failed');
    } finally {
      this.running = false;
    }
  }
}
