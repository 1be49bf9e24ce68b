import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX, queueName } from './names.js';
import type { InvocationRecord, RecordStore } from './records.js';

interface Pending {
  resolve: (r: InvocationRecord | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for invocations to finish, for synchronous callers. Listens to BullMQ's queue events
 * (a Redis stream), so it works whichever host's worker ran the job.
 */
export class ResultWaiter {
  private readonly events = new Map<string, QueueEvents>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly ready = new Map<string, Promise<void>>();

  constructor(
    private readonly connectionFactory: () => Redis,
    private readonly records: RecordStore,
    /** Told of failures no caller awaits (a record read after a notification, a listener error). */
    private readonly onError: (err: Error, context: string) => void = () => undefined,
  ) {}

  /**
   * Starts listening on a function's queue; resolves once the listener is connected. Concurrent
   * callers share one listener and all wait for it. The platform watches every function at start,
   * so a first sync call never races the listener's first read.
   */
  watch(fn: string): Promise<void> {
    let ready = this.ready.get(fn);
    if (!ready) {
      const qe = new QueueEvents(queueName(fn), {
        connection: this.connectionFactory(),
        prefix: QUEUE_PREFIX,
      });
      this.events.set(fn, qe);
      const settle = ({ jobId }: { jobId: string }) =>
        void this.settle(jobId).catch((err: Error) => this.onError(err, `reading the record of ${jobId}`));
      qe.on('completed', settle);
      qe.on('failed', settle);
      // The record poll in wait() covers what a listener misses while its connection is down.
      qe.on('error', (err) => this.onError(err, `listening for results of ${fn}`));
      ready = qe.waitUntilReady().then(() => undefined);
      this.ready.set(fn, ready);
    }
    return ready;
  }

  /**
   * Resolves with the finished record, or undefined when `timeoutMs` passes first. The record is
   * checked once after subscribing, so a job that finished in between is not missed.
   */
  async wait(fn: string, id: string, timeoutMs: number): Promise<InvocationRecord | undefined> {
    await this.watch(fn);
    const done = new Promise<InvocationRecord | undefined>((resolve) => {
      const timer = setTimeout(() => this.drop(id, resolve), timeoutMs);
      const list = this.pending.get(id) ?? [];
      list.push({ resolve, timer });
      this.pending.set(id, list);
    });
    const check = async () => {
      const now = await this.records.get(id).catch(() => undefined);
      if (now && (now.status === 'succeeded' || now.status === 'failed'))
        void this.settle(id, now).catch((err: Error) => this.onError(err, `settling ${id}`));
    };
    await check();
    // A safety net under the event stream: a notification lost in a reconnect still resolves.
    const poll = setInterval(() => void check(), 1000);
    return done.finally(() => clearInterval(poll));
  }

  async close(): Promise<void> {
    for (const list of this.pending.values()) {
      for (const p of list) {
        clearTimeout(p.timer);
        p.resolve(undefined);
      }
    }
    this.pending.clear();
    await Promise.all([...this.events.values()].map((qe) => qe.close()));
  }

  private drop(id: string, resolve: Pending['resolve']): void {
    const list = (this.pending.get(id) ?? []).filter((p) => p.resolve !== resolve);
    if (list.length) this.pending.set(id, list);
    else this.pending.delete(id);
    resolve(undefined);
  }

  private async settle(id: string, known?: InvocationRecord): Promise<void> {
    if (!this.pending.has(id)) return;
    const record = known ?? (await this.records.get(id));
    if (!record || (record.status !== 'succeeded' && record.status !== 'failed')) return;
    const list = this.pending.get(id) ?? [];
    this.pending.delete(id);
    for (const p of list) {
      clearTimeout(p.timer);
      p.resolve(record);
    }
  }
}
