import type { Redis } from 'ioredis';
import type { FunctionSpec } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import { usingClusterKeys, waitingKeys, WORK_CHANNEL, workKeys } from '../queue/names.js';
import type { FunctionWorker } from './worker.js';

export interface DispatcherOptions {
  /** For the cheap "is there work" reads. */
  redis: Redis;
  /** Becomes a pub/sub connection on the work channel. */
  subscriber: Redis;
  /** The functions this host serves now. */
  functions: () => readonly FunctionSpec[];
  /** A function's queue worker, not yet started. */
  create: (spec: FunctionSpec) => FunctionWorker;
  /** Work was announced for a function that had no worker here (one is starting now). */
  onColdWork?: (fn: string) => void;
  logger: Logger;
  /** A worker that held no job this long, with no job left in its queue, stops. @defaultValue 10 s */
  idleMs?: number;
  /** How often queues without a worker are checked for work nobody announced. @defaultValue 30 s */
  sweepMs?: number;
  /**
   * A worker free to take jobs that has taken none this long while jobs wait in its queue is
   * replaced (its blocking connection is taken to be wedged). @defaultValue 15 s
   */
  wedgedMs?: number;
}

/**
 * Runs a function's queue worker only while the function has work, so an idle function costs no
 * Redis connection, no command and no memory. Producers announce queued work on one channel
 * (see Producer); a worker that has been idle for `idleMs` and finds its queue empty (waiting,
 * delayed for a retry, and running anywhere) stops. Work nobody announced (a job re-driven from
 * the dead-letter set by another tool, a worker that died holding jobs) is found by a sweep that
 * costs one EXISTS per idle function every `sweepMs`.
 */
export class WorkerDispatcher {
  private readonly workers = new Map<string, FunctionWorker>();
  private readonly closing = new Map<string, Promise<void>>();
  /** Replaced workers still closing (see replaceWedged); awaited by close(). */
  private readonly abandoned = new Set<Promise<void>>();
  private readonly log: Logger;
  private idleTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;
  private paused = false;

  constructor(private readonly o: DispatcherOptions) {
    this.log = o.logger.child({ component: 'dispatcher' });
  }

  /** Subscribes to the work channel, then starts workers for every queue that has work now. */
  async start(): Promise<void> {
    this.o.subscriber.on('message', (channel: string, fn: string) => {
      if (channel === WORK_CHANNEL && this.wake(fn)) this.o.onColdWork?.(fn);
    });
    await this.o.subscriber.subscribe(WORK_CHANNEL);
    await this.sweep();
    this.idleTimer = setInterval(() => void this.retireIdle().then(() => this.replaceWedged()), 1000);
    this.idleTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepMs ?? 30_000);
    this.sweepTimer.unref();
  }

  /** The running worker of `fn`, if any. */
  get(fn: string): FunctionWorker | undefined {
    return this.workers.get(fn);
  }

  /** Whether `fn` has a worker running on this host. */
  has(fn: string): boolean {
    return this.workers.has(fn);
  }

  /**
   * Takes no new job on any function (this host cannot run them: its Docker engine does not
   * answer); jobs already held go on. Other hosts take the queues' work meanwhile.
   */
  pause(): void {
    this.paused = true;
    for (const w of this.workers.values()) w.pause();
  }

  /** Takes jobs again, and starts workers for the queues that have work. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const w of this.workers.values()) w.resume();
    void this.sweep();
  }

  /**
   * Starts `fn`'s worker unless it runs (or `fn` is not served here, or the host is paused);
   * whether it started one now.
   */
  wake(fn: string): boolean {
    if (this.stopped || this.paused || this.workers.has(fn)) return false;
    const closing = this.closing.get(fn);
    if (closing) {
      void closing.then(() => this.wake(fn));
      return false;
    }
    const spec = this.o.functions().find((s) => s.name === fn);
    if (!spec) return false;
    const worker = this.o.create(spec);
    worker.start();
    this.workers.set(fn, worker);
    this.log.debug({ fn }, 'worker started');
    return true;
  }

  /** Stops `fn`'s worker after the jobs it holds (a removed function). */
  async retire(fn: string): Promise<void> {
    const worker = this.workers.get(fn);
    if (!worker) return this.closing.get(fn);
    this.workers.delete(fn);
    const closed = worker.close().finally(() => this.closing.delete(fn));
    this.closing.set(fn, closed);
    return closed;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.idleTimer);
    clearInterval(this.sweepTimer);
    await this.o.subscriber.quit().catch(() => this.o.subscriber.disconnect());
    await Promise.all([...this.workers.keys()].map((fn) => this.retire(fn)));
    await Promise.all([...this.closing.values(), ...this.abandoned]);
  }

  private async hasWork(fn: string): Promise<boolean> {
    return (await this.o.redis.exists(...workKeys(fn))) > 0;
  }

  /** Stops the workers that are idle and whose queues are empty; checks once more after. */
  private async retireIdle(): Promise<void> {
    const now = Date.now();
    const idleMs = this.o.idleMs ?? 10_000;
    for (const [fn, worker] of this.workers) {
      if (worker.idleFor(now) < idleMs) continue;
      try {
        if (await this.hasWork(fn)) continue;
        if (this.workers.get(fn) !== worker || worker.idleFor() < idleMs) continue;
        await this.retire(fn);
        this.log.debug({ fn }, 'worker stopped: idle');
        // Work queued while it stopped was announced to a worker that is gone: look again.
        if (await this.hasWork(fn)) this.wake(fn);
      } catch (err) {
        this.log.warn({ fn, err: (err as Error).message }, 'could not check a queue for work');
      }
    }
  }

  /**
   * Replaces each worker that could take jobs, has taken none for `wedgedMs`, and has jobs
   * waiting: its blocking connection is wedged (an ioredis Cluster connection that lost every
   * node can stay that way after the cluster is back). The old worker finishes what it holds in
   * the background; the new one opens its own connection.
   */
  private async replaceWedged(): Promise<void> {
    if (this.stopped || this.paused) return;
    const now = Date.now();
    const wedgedMs = this.o.wedgedMs ?? 15_000;
    for (const [fn, worker] of this.workers) {
      const quietMs = worker.takesNothingFor(now);
      if (quietMs < wedgedMs) continue;
      try {
        const waiting = await this.o.redis.exists(...waitingKeys(fn));
        if (waiting === 0 || this.workers.get(fn) !== worker || worker.takesNothingFor() < wedgedMs) continue;
        this.log.warn({ fn, quietMs }, 'worker took no job while jobs waited: replaced by a new one');
        this.workers.delete(fn);
        const closed = worker.close().finally(() => this.abandoned.delete(closed));
        this.abandoned.add(closed);
        this.wake(fn);
      } catch (err) {
        this.log.warn({ fn, err: (err as Error).message }, 'could not check a queue for waiting jobs');
      }
    }
  }

  /** Starts a worker for every served function whose queue holds work. */
  private async sweep(): Promise<void> {
    const idle = this.o.functions().filter((s) => !this.workers.has(s.name));
    if (idle.length === 0) return;
    try {
      let results: Array<[Error | null, unknown]>;
      if (usingClusterKeys()) {
        // A cluster pipelines only the keys of one node: one call per function, sent together.
        results = await Promise.all(
          idle.map((s) =>
            this.o.redis.exists(...workKeys(s.name)).then(
              (n): [Error | null, unknown] => [null, n],
              (err: Error): [Error | null, unknown] => [err, 0],
            ),
          ),
        );
      } else {
        const pipe = this.o.redis.pipeline();
        for (const s of idle) pipe.exists(...workKeys(s.name));
        results = (await pipe.exec()) ?? [];
      }
      idle.forEach((s, i) => {
        const [err, n] = results[i] ?? [null, 0];
        if (!err && Number(n) > 0) this.wake(s.name);
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'sweep for unannounced work failed');
    }
  }
}
