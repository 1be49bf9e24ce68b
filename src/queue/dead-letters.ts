import type { Job, Queue } from 'bullmq';
import { functionOfInvocation } from './names.js';
import type { InvocationRecord, RecordStore } from './records.js';

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
    return true;
  }

  /** Re-drives every dead letter of the given functions; returns their ids. */
  async retryAll(functions: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const fn of functions) {
      for (;;) {
        const jobs = await this.queue(fn).getFailed(0, 499);
        if (jobs.length === 0) break;
        for (const job of jobs) {
          await job.retry('failed', { resetAttemptsMade: true });
          ids.push(job.id as string);
        }
      }
    }
    return ids;
  }
}
