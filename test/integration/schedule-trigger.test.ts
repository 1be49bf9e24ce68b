/**
 * A schedule trigger with two platform processes: BullMQ's job scheduler makes one job per tick,
 * so however many processes run, each tick runs once; after everything was down, the overdue tick
 * runs once and the schedule goes on from now (no burst of missed ticks).
 */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, slotted } from '../../src/queue/names.js';
import { ticksQueue } from '../../src/triggers/schedule/scheduler.js';
import { clusterOf } from '../helpers/platform.js';
import { requireRedis } from '../helpers/services.js';
import {
  listObjects,
  report,
  scenario,
  seconds,
  shortName,
  sleep,
  startFaas,
  stopAll,
} from '../faults/harness.js';

const WINDOW_MS = 20_000;
const DOWN_MS = 5000;

/** Each execution's tick (ms), from the `runs/tick-<time>/<uuid>` objects the function wrote. */
async function ticks(s3: Parameters<typeof listObjects>[0], bucket: string): Promise<number[]> {
  const runs = await listObjects(s3, bucket, 'runs/tick-');
  return runs.map((r) => Date.parse(r.key.slice('runs/tick-'.length, r.key.lastIndexOf('/'))));
}

describe('a schedule trigger on two platform processes', () => {
  const fn = shortName('tick');
  const out = shortName('tick-out');
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () => `version: 1
functions:
  ${fn}:
    handler: keyed/index.handler
    timeout: 10s
    env: { OUT_BUCKET: ${out} }
    storage: { write: [${out}] }
    triggers:
      - schedule: { every: 1s }
`,
  });

  it('runs every tick once, and only the overdue one after a downtime', async () => {
    try {
      const [a, b] = await Promise.all([startFaas('up', sc.dir), startFaas('up', sc.dir)]);
      sc.procs.push(a, b);
      const fns = (await (await fetch(`${a.url}/functions`)).json()) as Array<{
        name: string;
        nextRun?: string;
      }>;
      const nextRun = fns.find((f) => f.name === fn)?.nextRun;
      expect(Date.parse(nextRun ?? '')).toBeGreaterThan(Date.now() - 2000);
      // Let the first ticks settle in before the window opens.
      await sleep(2000);
      const from = Date.now();
      await sleep(WINDOW_MS);
      const to = Date.now();
      await sleep(2000); // the window's last ticks finish
      await stopAll([a, b]);
      const downAt = Date.now();
      await sleep(DOWN_MS);
      const c = await startFaas('up', sc.dir);
      sc.procs.push(c);
      const upAt = c.readyAt;
      await sleep(3000);
      await stopAll([c]);

      const all = await ticks(sc.s3, out);
      const inWindow = all.filter((t) => t >= from && t < to);
      const perTick = new Map<number, number>();
      for (const t of all) perTick.set(t, (perTick.get(t) ?? 0) + 1);
      const doubled = [...perTick.values()].filter((n) => n > 1).length;
      // Ticks due while nothing ran, and in the 3 s after the restart.
      const afterDown = all.filter((t) => t >= downAt - 1000).sort((x, y) => x - y);
      const missedWhileDown = all.filter((t) => t > downAt && t < upAt - 1000);
      report('schedule every 1s, two processes', {
        window: seconds(from, to),
        invocations: inWindow.length,
        doubledTicks: doubled,
        totalRuns: all.length,
        down: seconds(downAt, upAt),
        runsForDowntime: missedWhileDown.length,
        runsAfterRestart: afterDown.length,
      });
      expect(inWindow.length).toBeGreaterThanOrEqual(18);
      expect(inWindow.length).toBeLessThanOrEqual(21);
      expect(doubled).toBe(0);
      // At most the one overdue tick stands for the whole downtime.
      expect(missedWhileDown.length).toBeLessThanOrEqual(1);
    } finally {
      const redis = await requireRedis();
      // The processes ran as the scenario's own cluster: its schedules are in its own queue.
      const q = new Queue(slotted(ticksQueue(clusterOf(sc.dir))), {
        connection: redis,
        prefix: QUEUE_PREFIX,
      });
      for (const s of await q.getJobSchedulers(0, -1))
        if (s.key?.startsWith(`${fn}~`)) await q.removeJobScheduler(s.key);
      await q.close();
      redis.disconnect();
    }
  }, 180_000);
});
