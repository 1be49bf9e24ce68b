/**
 * Schedule ticks as EventBridge scheduled events, and the ids that make a tick one invocation.
 * Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import type { ScheduleTrigger } from '../../manifest/types.js';
import type { ScheduledEvent } from '../../queue/payload.js';
import { messageUuid } from '../queue/record.js';

/** The account EventBridge events carry; there is none here. */
export const LOCAL_ACCOUNT = '000000000000';

/**
 * The job scheduler id of a function's schedule: the function and a hash of what the schedule
 * says, so changing a schedule replaces its scheduler and equal manifests agree on the id.
 * @example schedulerId('report', { type: 'schedule', cron: '0 * * * *', timezone: 'UTC' }) // 'report~1a2b3c4d5e'
 */
export function schedulerId(fn: string, t: ScheduleTrigger): string {
  const what = t.cron !== undefined ? `cron ${t.cron} ${t.timezone}` : `every ${t.everyMs}`;
  return `${fn}~${createHash('sha256').update(what).digest('hex').slice(0, 10)}`;
}

/** The function of a scheduler id. */
export function functionOfScheduler(id: string): string {
  return id.slice(0, id.lastIndexOf('~'));
}

/** The dedup key of one tick: however many processes see it, it runs once. */
export function tickDedupKey(scheduler: string, tickMs: number): string {
  return `schedule:${scheduler}:${tickMs}`;
}

/**
 * The tick time of a job a BullMQ job scheduler made: its id is `repeat:<scheduler>:<millis>`.
 * @example tickOfJob('repeat:report~1a:1700000000000') // 1700000000000
 */
export function tickOfJob(jobId: string): number | undefined {
  const ms = Number(jobId.slice(jobId.lastIndexOf(':') + 1));
  return jobId.startsWith('repeat:') && Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

/** EventBridge writes times to the second: `2026-11-30T10:05:00Z`. */
export function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The event a function receives for one tick of the scheduler `scheduler`. */
export function scheduledEvent(scheduler: string, tickMs: number, region: string): ScheduledEvent {
  return {
    version: '0',
    id: messageUuid(tickDedupKey(scheduler, tickMs)),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT,
    time: eventTime(tickMs),
    region,
    resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT}:rule/${scheduler}`],
    detail: {},
  };
}
