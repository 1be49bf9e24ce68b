import type { Job, Queue } from 'bullmq';
import { functionOfInvocation } from './names.js';
import type { InvocationRecord, RecordStore } from './records.js';

/** Failed jobs read per page while taking a re-drive snapshot. */
const RETRY_PAGE = 500;

export interface DeadLetter {
  id: string;
  function: string;
  failedAt?: number;
  attempts: number;
  /** The event as it was accepted. */
  event: unknown;
  error?: InvocationRecord['error'];
  /** Every attempt's error, oldest first. */
  history: NonNullable<InvocationRecord['history']>;
  logs: InvocationRecord['logs'];
}

/**
 * The dead-letter set: jobs that failed their last attempt stay in BullMQ's failed set (for the
 * retention window) with their event; records add every attempt's error and logs. Re-driving
 * moves a job back to waiting, with its attempts counted afresh.
 */
export class DeadLetters {
  constructor(
    private readonly queue: (fn: string) => Queue,
    private readonly records: RecordStore,
    /** Told of each function that got jobs back (to wake its workers). */
    private readonly requeued: (fn: string) => void = () => undefined,
  ) {}

  private async entry(job: Job, fn: string): Promise<DeadLetter> {
    const id = job.id as string;
    const record = await this.records.get(id);
    const history = [...(record?.history ?? [])];
    if (record?.error)
      history.push({
        attempt: record.attempts,
        error: record.error,
        finishedAt: record.timings.finishedAt ?? 0,
      });
    return {
      id,
      function: fn,
      failedAt: job.finishedOn,
      attempts: job.attemptsMade,
      event: job.data,
      error: record?.error ?? { kind: 'handler', message: job.failedReason },
      history,
      logs: record?.logs ?? [],
    };
  }

  async list(functions: string[], limit = 100): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const fn of functions) {
      const jobs = await this.queue(fn).getFailed(0, Math.max(0, limit - out.length - 1));
      for (const job of jobs) out.push(await this.entry(job, fn));
      if (out.length >= limit) break;
    }
    return out;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const fn = functionOfInvocation(id);
    if (!fn) return undefined;
    const job = await this.queue(fn).getJob(id);
    if (!job || !(await job.isFailed())) return undefined;
    return this.entry(job, fn);
  }

  /** Moves one dead letter back to its queue; false when there is no such dead letter. */
  async retry(id: string): Promise<boolean> {
    const fn = functionOfInvocation(id);
    if (!fn) return false;
    const job = await this.queue(fn).getJob(id);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true });
    this.requeued(fn);
    return true;
  }

  /**
   * Re-drives the dead letters of the given functions as they are now: the ids are read first,
   * then each is re-driven once. A job that fails again at once lands in the failed set anew and
   * waits for the next request, rather than being re-driven over and over in this one.
   */
  async retryAll(functions: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const fn of functions) {
      const queue = this.queue(fn);
      const snapshot: string[] = [];
      for (let start = 0; ; start += RETRY_PAGE) {
        const page = await queue.getFailed(start, start + RETRY_PAGE - 1);
        snapshot.push(...page.map((job) => job.id as string));
        if (page.length < RETRY_PAGE) break;
      }
      for (const id of new Set(snapshot)) {
        const job = await queue.getJob(id);
        // Gone (expired) or already re-driven by someone else since the snapshot: not ours to move.
        if (!job || !(await job.isFailed())) continue;
        await job.retry('failed', { resetAttemptsMade: true });
        ids.push(id);
      }
      if (ids.length > 0) this.requeued(fn);
    }
    return ids;
  }
}
