import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FunctionSpec } from '../manifest/types.js';
import type { Enqueue, RoutedEvent } from './enqueue.js';
import { readBacklogs, type Backlog } from './backlog.js';
import { invocationId, QUEUE_PREFIX, queueName, WORK_CHANNEL } from './names.js';

/** Raised when Redis cannot take the events now; nothing was queued, so nothing may be acknowledged. */
export class QueueUnavailable extends Error {
  override name = 'QueueUnavailable';
}

/** Longest an enqueue may take before the caller is told the queue is unavailable. */
const ENQUEUE_TIMEOUT_MS = 5000;

/**
 * A function's queued work is announced at most once per this window: at once when the window is
 * open, otherwise once at its end (so the last job of a run is always announced). Hosts whose
 * worker for it runs already need no announcement; one that stopped its idle worker in between
 * hears of the work within this window.
 */
export const ANNOUNCE_WINDOW_MS = 50;

/** Raised when an event names a function the manifest does not declare. */
export class UnknownFunction extends Error {
  override name = 'UnknownFunction';
}

/**
 * Entries of BullMQ's event stream kept per function queue (about; trimmed a block at a time).
 * The platform reads none of them; each completion's entry carries the job's return value, which
 * for an async success is its whole record (logs included), so the stream is kept short.
 */
export const EVENTS_KEPT = 1000;

/** Finished jobs kept per function, at most: the dedup window is this many jobs or the TTL, whichever is shorter. */
export const KEEP_FINISHED_JOBS = 100_000;

/** Job options every invocation of `spec` gets: its retries, and how long finished jobs stay. */
export function jobOptions(spec: FunctionSpec, keepSeconds: number): JobsOptions {
  return {
    attempts: spec.retry.attempts,
    backoff: { type: 'faas' },
    // Finished jobs stay as long as invocation records: a repeated event within that window finds
    // its job id taken and is not run again.
    // Bounded by count too: under sustained load the age alone would let Redis (noeviction) fill.
    removeOnComplete: { age: keepSeconds, count: KEEP_FINISHED_JOBS },
    removeOnFail: { age: keepSeconds, count: KEEP_FINISHED_JOBS },
  };
}

/**
 * Puts routed events on their functions' BullMQ queues. Resolves only once Redis has them:
 * callers may then acknowledge the event to its sender.
 */
export class Producer implements Enqueue {
  private readonly queues = new Map<string, Queue>();
  /** Per function: when its work was last announced, and the announcement due at the window's end. */
  private readonly announced = new Map<string, { at: number; due?: NodeJS.Timeout }>();

  constructor(
    private readonly connection: Redis,
    /** The functions deployed now (a deploy changes them), or a fixed set. */
    functions: Readonly<Record<string, FunctionSpec>> | (() => Readonly<Record<string, FunctionSpec>>),
    private readonly keepSeconds: number,
    /** Told of a queue's connection errors (an enqueue itself fails with QueueUnavailable). */
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.functions = typeof functions === 'function' ? functions : () => functions;
  }

  private readonly functions: () => Readonly<Record<string, FunctionSpec>>;

  /** Many functions' backlogs at once, on the same fail-fast connection (see backlog.ts). */
  backlogs(fns: string[], now = Date.now()): Promise<Backlog[]> {
    return readBacklogs(this.connection, fns, now);
  }

  async backlog(fn: string, now = Date.now()): Promise<Backlog> {
    return (await this.backlogs([fn], now))[0] as Backlog;
  }

  queue(fn: string): Queue {
    let q = this.queues.get(fn);
    if (!q) {
      q = new Queue(queueName(fn), {
        connection: this.connection,
        prefix: QUEUE_PREFIX,
        streams: { events: { maxLen: EVENTS_KEPT } },
      });
      q.on('error', this.onError);
      this.queues.set(fn, q);
    }
    return q;
  }

  async enqueue(events: RoutedEvent[]): Promise<string[]> {
    // BullMQ waits for a connection that is down instead of failing: answer for it at once.
    if (this.connection.status !== 'ready') {
      throw new QueueUnavailable(`Redis is not connected (${this.connection.status})`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new QueueUnavailable(`Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)),
        ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([this.add(events), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async add(events: RoutedEvent[]): Promise<string[]> {
    const byFn = new Map<string, Array<{ e: RoutedEvent; id: string }>>();
    const functions = this.functions();
    const ids = events.map((e) => {
      if (!Object.hasOwn(functions, e.functionName))
        throw new UnknownFunction(`no function named ${e.functionName}`);
      const id = invocationId(e.functionName, e.dedupKey);
      const list = byFn.get(e.functionName) ?? [];
      list.push({ e, id });
      byFn.set(e.functionName, list);
      return id;
    });
    await Promise.all(
      [...byFn].map(([fn, list]) => {
        const opts = jobOptions(functions[fn] as FunctionSpec, this.keepSeconds);
        // One event: a plain add (addBulk builds a pipeline per call, several times the CPU).
        if (list.length === 1) {
          const [{ e, id }] = list as [{ e: RoutedEvent; id: string }];
          return this.queue(fn).add(e.payload.source, e.payload, { ...opts, jobId: id });
        }
        return this.queue(fn).addBulk(
          list.map(({ e, id }) => ({
            name: e.payload.source,
            data: e.payload,
            opts: { ...opts, jobId: id },
          })),
        );
      }),
    );
    for (const fn of byFn.keys()) this.announce(fn);
    return ids;
  }

  /**
   * Wakes the workers of this function on every host (an idle function has none running). Not
   * awaited: the jobs are in Redis already, and a lost wake-up is caught by the sweep.
   */
  private announce(fn: string): void {
    const now = Date.now();
    const last = this.announced.get(fn);
    const publish = () => void this.connection.publish(WORK_CHANNEL, fn).catch(() => undefined);
    if (!last || now - last.at >= ANNOUNCE_WINDOW_MS) {
      this.announced.set(fn, { at: now });
      publish();
      return;
    }
    if (last.due) return;
    last.due = setTimeout(
      () => {
        this.announced.set(fn, { at: Date.now() });
        publish();
      },
      ANNOUNCE_WINDOW_MS - (now - last.at),
    );
    last.due.unref();
  }

  async close(): Promise<void> {
    for (const a of this.announced.values()) clearTimeout(a.due);
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
