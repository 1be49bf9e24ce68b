/**
 * Schedules in Redis follow the manifest: upserting keeps one scheduler per schedule, and the
 * schedulers of functions no longer in the manifest are removed.
 */
import { describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../src/manifest/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { Schedules } from '../../src/triggers/schedule/scheduler.js';
import { connectRedis } from '../../src/queue/redis.js';
import { config, requireRedis, uniqueName } from '../helpers/services.js';

const spec = (name: string, triggers: FunctionSpec['triggers']) => ({ name, triggers }) as FunctionSpec;

function schedules(functions: FunctionSpec[], cluster?: string): Schedules {
  return new Schedules({
    functions,
    cluster,
    connection: () => connectRedis(config.REDIS_URL),
    sink: { enqueue: async () => [] },
    region: 'us-east-1',
    logger: createLogger('silent'),
  });
}

describe('schedules', () => {
  it('are upserted once per schedule, report their next run, and go when the manifest drops them', async () => {
    (await requireRedis()).disconnect();
    const fn = uniqueName('sched');
    const hourly = { type: 'schedule' as const, cron: '0 * * * *', timezone: 'Europe/Berlin' };
    const first = schedules([spec(fn, [hourly, { type: 'schedule', everyMs: 60_000, timezone: 'UTC' }])]);
    const again = schedules([spec(fn, [hourly])]);
    const none = schedules([]);
    try {
      await first.reconcile();
      await first.reconcile(); // a second process with the same manifest
      const next = (await first.nextRuns())[fn];
      // An every: schedule's first tick is due at once.
      expect(Math.abs(next! - Date.now())).toBeLessThanOrEqual(60_000);
      await again.reconcile(); // the every: 1m schedule was removed from the manifest
      const hourlyNext = (await again.nextRuns())[fn]!;
      expect(new Date(hourlyNext).getUTCMinutes()).toBe(0);
      await none.reconcile(); // the function was removed
      expect(await none.nextRuns()).toEqual({});
      expect(await again.nextRuns()).toEqual({});
    } finally {
      await Promise.all([first.close(), again.close(), none.close()]);
    }
  });

  it("of one cluster are left alone by another cluster's start on the same Redis", async () => {
    (await requireRedis()).disconnect();
    const [a, b] = [uniqueName('cla'), uniqueName('clb')];
    const every = { type: 'schedule' as const, everyMs: 3_600_000, timezone: 'UTC' };
    const mine = schedules([spec(a, [every])], `c-${a}`.slice(0, 40));
    // The same manifest on both (staging and production on one Redis): the same scheduler ids.
    const theirs = schedules([spec(a, [every])], `c-${b}`.slice(0, 40));
    const theirsEmpty = schedules([], `c-${b}`.slice(0, 40));
    try {
      await mine.reconcile();
      await theirs.reconcile();
      await theirsEmpty.reconcile(); // the other cluster drops all its own schedules
      expect(Object.keys(await mine.nextRuns())).toEqual([a]);
      expect(await theirs.nextRuns()).toEqual({});
    } finally {
      const cleanup = schedules([], `c-${a}`.slice(0, 40));
      await cleanup.reconcile();
      await Promise.all([mine.close(), theirs.close(), theirsEmpty.close(), cleanup.close()]);
    }
  });
});
