import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FunctionSpec, ScheduleTrigger } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue } from '../../queue/enqueue.js';
import { QUEUE_PREFIX, slotted } from '../../queue/names.js';
import { functionOfScheduler, scheduledEvent, schedulerId, tickDedupKey, tickOfJob } from './event.js';

/**
 * The BullMQ queue that holds the default cluster's schedule ticks (not invocations: each tick
 * queues one); every other cluster's go to a queue of its own (ticksQueue).
 */
export const TICKS_QUEUE = 'schedules';

/**
 * The ticks queue of a cluster: `schedules` for the default one (as before clusters had their
 * own), `schedules.<cluster>` for any other, so that one cluster's start never removes another's
 * schedules, nor takes its ticks.
 * @example ticksQueue('faas') // 'schedules'; ticksQueue('eu') // 'schedules.eu'
 */
export function ticksQueue(cluster = 'faas'): string {
  return cluster === 'faas' ? TICKS_QUEUE : `${TICKS_QUEUE}.${cluster}`;
}

/** What a tick job carries. */
interface TickData {
  scheduler: string;
}

export interface SchedulesOptions {
  functions: FunctionSpec[];
  /** New connections (closed by `close()`): BullMQ's worker needs its own for blocking reads. */
  connection: () => Redis;
  sink: Enqueue;
  region: string;
  /** The cluster whose schedules these are (FAAS_CLUSTER). @defaultValue 'faas' */
  cluster?: string;
  logger: Logger;
}

/** The schedulers a set of functions wants: id → function and trigger. */
export function desiredSchedulers(
  functions: FunctionSpec[],
): Map<string, { fn: string; trigger: ScheduleTrigger }> {
  const out = new Map<string, { fn: string; trigger: ScheduleTrigger }>();
  for (const spec of functions) {
    for (const t of spec.triggers)
      if (t.type === 'schedule') out.set(schedulerId(spec.name, t), { fn: spec.name, trigger: t });
  }
  return out;
}

/**
 * Schedule triggers as BullMQ job schedulers on one ticks queue. A job scheduler makes exactly
 * one job per tick in Redis however many processes upsert it, and only the next one: ticks
 * missed while nothing ran are not made up, the one overdue tick runs when a process returns.
 * Each tick job queues the function's invocation through the sink with a job id derived from
 * the scheduler and the tick time, so a tick retried after a crash still runs once.
 * @example
 * const schedules = new Schedules({ functions, connection, sink, region, logger });
 * await schedules.reconcile(); await schedules.start();
 */
export class Schedules {
  private readonly queue: Queue;
  private worker?: Worker;
  private readonly log: Logger;
  private readonly wanted: ReturnType<typeof desiredSchedulers>;
  private readonly connections: Redis[] = [];

  private readonly name: string;

  constructor(private readonly opts: SchedulesOptions) {
    this.name = slotted(ticksQueue(opts.cluster));
    this.queue = new Queue(this.name, { connection: this.connect(), prefix: QUEUE_PREFIX });
    this.queue.on('error', () => undefined);
    this.log = opts.logger.child({ component: 'schedules' });
    this.wanted = desiredSchedulers(opts.functions);
  }

  /**
   * Makes the schedulers in Redis match the manifest: upserts each one (unchanged ones keep
   * their next tick) and removes those of functions or schedules no longer in it.
   */
  async reconcile(): Promise<void> {
    for (const [id, { fn, trigger }] of this.wanted) {
      const repeat =
        trigger.cron !== undefined
          ? { pattern: trigger.cron, tz: trigger.timezone }
          : { every: trigger.everyMs! };
      await this.queue.upsertJobScheduler(id, repeat, {
        name: fn,
        data: { scheduler: id } satisfies TickData,
        opts: {
          attempts: 10,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: 100,
          removeOnFail: 1000,
        },
      });
    }
    const existing = await this.queue.getJobSchedulers(0, -1);
    for (const s of existing) {
      if (s.key && !this.wanted.has(s.key)) {
        await this.queue.removeJobScheduler(s.key);
        this.log.info({ scheduler: s.key }, 'removed a schedule no longer in the manifest');
      }
    }
    if (this.wanted.size) this.log.info({ schedules: [...this.wanted.keys()] }, 'schedules in place');
  }

  /**
   * Takes ticks: every process that runs listeners and has schedules does, and each tick goes to
   * one of them. A manifest without schedules takes none (it only removed stale schedulers).
   */
  start(): void {
    if (this.wanted.size === 0) return;
    this.worker = new Worker(this.name, (job: Job<TickData>) => this.tick(job), {
      connection: this.connect(),
      prefix: QUEUE_PREFIX,
      concurrency: 4,
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'schedule worker error'));
  }

  /** The next tick of each function with a schedule (ms since epoch; the earliest of several). */
  async nextRuns(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [id, { fn }] of this.wanted) {
      const s = await this.queue.getJobScheduler(id);
      if (s?.next !== undefined && (out[fn] === undefined || s.next < out[fn])) out[fn] = s.next;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }

  private connect(): Redis {
    const c = this.opts.connection();
    c.on('error', () => undefined); // the worker's and queue's own error events report it
    this.connections.push(c);
    return c;
  }

  private async tick(job: Job<TickData>): Promise<void> {
    const scheduler = job.data.scheduler;
    const fn = functionOfScheduler(scheduler);
    if (!this.wanted.has(scheduler)) {
      // Another process's manifest has this schedule (a deploy in progress): its ticks are its own.
      throw new Error(`schedule ${scheduler} is not in this process's manifest`);
    }
    const tickMs = tickOfJob(job.id ?? '') ?? job.timestamp + (job.opts.delay ?? 0);
    const [id] = await this.opts.sink.enqueue([
      {
        functionName: fn,
        payload: {
          source: 'schedule',
          event: scheduledEvent(scheduler, tickMs, this.opts.region),
          enqueuedAt: Date.now(),
        },
        dedupKey: tickDedupKey(scheduler, tickMs),
      },
    ]);
    this.log.debug({ scheduler, tick: new Date(tickMs).toISOString(), invocation: id }, 'tick queued');
  }
}
