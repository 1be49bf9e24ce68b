import type { Queue } from 'bullmq';
import type { Backlog } from '../../src/queue/backlog.js';

/**
 * A function queue's backlog as BullMQ's own reads give it (its counts, and its oldest waiting
 * job): the reference the platform's own reading is checked against.
 */
export async function bullmqBacklog(queue: Queue, now: number): Promise<Backlog> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  let oldestWaitMs = 0;
  if (waiting > 0) {
    const [oldest] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
    if (oldest) oldestWaitMs = Math.max(0, now - oldest.timestamp);
  }
  return { waiting, active: counts.active ?? 0, delayed: counts.delayed ?? 0, oldestWaitMs };
}
