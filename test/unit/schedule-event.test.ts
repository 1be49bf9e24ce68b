import { describe, expect, it } from 'vitest';
import { handlerEvent } from '../../src/queue/handler-event.js';
import { scheduledEventSchema } from '../../src/queue/payload.js';
import {
  eventTime,
  functionOfScheduler,
  scheduledEvent,
  schedulerId,
  tickDedupKey,
  tickOfJob,
} from '../../src/triggers/schedule/event.js';
import { desiredSchedulers } from '../../src/triggers/schedule/scheduler.js';
import type { FunctionSpec } from '../../src/manifest/types.js';

const cron = { type: 'schedule' as const, cron: '*/5 * * * *', timezone: 'UTC' };

describe('schedulers', () => {
  it.each([
    ['same schedule, same id', schedulerId('f', cron), schedulerId('f', { ...cron }), true],
    [
      'another timezone',
      schedulerId('f', cron),
      schedulerId('f', { ...cron, timezone: 'Europe/Berlin' }),
      false,
    ],
    ['another function', schedulerId('f', cron), schedulerId('g', cron), false],
    [
      'every',
      schedulerId('f', { type: 'schedule', everyMs: 1000, timezone: 'UTC' }),
      schedulerId('f', { type: 'schedule', everyMs: 2000, timezone: 'UTC' }),
      false,
    ],
  ])('%s', (_, a, b, same) => expect(a === b).toBe(same));

  it('know their function', () => {
    expect(functionOfScheduler(schedulerId('my-fn', cron))).toBe('my-fn');
  });

  it('are one per distinct schedule of the manifest', () => {
    const spec = (name: string, triggers: FunctionSpec['triggers']) => ({ name, triggers }) as FunctionSpec;
    const wanted = desiredSchedulers([
      spec('a', [
        cron,
        cron,
        { type: 'webhook', path: '/x', methods: ['POST'], mode: 'async', payload: '2.0' },
      ]),
      spec('b', [{ type: 'schedule', everyMs: 1000, timezone: 'UTC' }]),
      spec('c', []),
    ]);
    expect([...wanted.values()].map((w) => w.fn)).toEqual(['a', 'b']);
  });
});

describe('ticks', () => {
  it.each([
    ['repeat:f~abc:1700000000000', 1700000000000],
    ['repeat:f~abc:x', undefined],
    ['f.0123', undefined],
  ])('job %s ticks at %s', (id, ms) => expect(tickOfJob(id)).toBe(ms));

  it('dedup per scheduler and tick', () => {
    expect(tickDedupKey('f~a', 1)).toBe('schedule:f~a:1');
    expect(tickDedupKey('f~a', 1)).not.toBe(tickDedupKey('f~a', 2));
  });

  it('are written to the second, as EventBridge does', () => {
    expect(eventTime(Date.UTC(2026, 10, 30, 10, 5, 0, 250))).toBe('2026-11-30T10:05:00Z');
  });
});

describe('the scheduled event', () => {
  const e = scheduledEvent('report~1a', Date.UTC(2026, 10, 30, 10, 5), 'eu-central-1');
  it("has EventBridge's shape", () => {
    expect(scheduledEventSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-11-30T10:05:00Z',
      region: 'eu-central-1',
      resources: ['arn:aws:events:eu-central-1:000000000000:rule/report~1a'],
      detail: {},
    });
  });
  it('has one id per tick', () => {
    expect(scheduledEvent('report~1a', Date.UTC(2026, 10, 30, 10, 5), 'x').id).toBe(e.id);
    expect(scheduledEvent('report~1a', Date.UTC(2026, 10, 30, 10, 10), 'x').id).not.toBe(e.id);
  });
  it('is the event the handler receives', () => {
    expect(handlerEvent({ source: 'schedule', event: e, enqueuedAt: 0 }, 'us-east-1')).toBe(e);
  });
});
