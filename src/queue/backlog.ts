import type { Queue } from 'bullmq';

export interface Backlog {
  /** Waiting and prioritized jobs. */
  waiting: number;
  active: number;
  /** Jobs waiting out a retry backoff. */
  delayed: number;
  /** Age of the oldest waiting job; 0 when none waits. */
  oldestWaitMs: number;
}

/**
 * A function queue's backlog from BullMQ's counts (not a list length: prioritized jobs live in
 * another structure), and the age of its oldest waiting job.
 */
export async function readBacklog(queue: Queue, now: number): Promise<Backlog> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  let oldestWaitMs = 0;
  if (waiting > 0) {
    const [oldest] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
    if (oldest) oldestWaitMs = Math.max(0, now - oldest.timestamp);
  }
  return { waiting, active: counts.active ?? 0, delayed: counts.delayed ?? 0, oldestWaitMs };
}
