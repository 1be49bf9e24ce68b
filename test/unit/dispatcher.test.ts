import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import type { FunctionSpec } from '../../src/manifest/types.js';
import { waitingKeys } from '../../src/queue/names.js';
import { WorkerDispatcher } from '../../src/worker/dispatcher.js';
import type { FunctionWorker } from '../../src/worker/worker.js';

/** A queue worker as the dispatcher sees it: how long it has been quiet, and whether it closed. */
class FakeWorker {
  started = false;
  closed = false;
  constructor(
    readonly n: number,
    public quietMs: number,
    public idleMs: number,
  ) {}
  start(): void {
    this.started = true;
  }
  idleFor(): number {
    return this.idleMs;
  }
  takesNothingFor(): number {
    return this.quietMs;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Redis as the dispatcher uses it: EXISTS answers from the set of keys that hold jobs. */
function fakeRedis(keys: Set<string>): Redis {
  return {
    exists: async (...k: string[]) => k.filter((x) => keys.has(x)).length,
    pipeline: () => {
      const calls: string[][] = [];
      const pipe = {
        exists: (...k: string[]) => (calls.push(k), pipe),
        exec: async () => calls.map((k) => [null, k.filter((x) => keys.has(x)).length]),
      };
      return pipe;
    },
  } as unknown as Redis;
}

const fakeSubscriber = {
  on: () => undefined,
  subscribe: async () => 1,
  quit: async () => 'OK',
} as unknown as Redis;

describe('WorkerDispatcher: a worker that takes no job while jobs wait', () => {
  const spec = { name: 'resize' } as FunctionSpec;
  let made: FakeWorker[];
  let keys: Set<string>;
  let next: { quietMs: number; idleMs: number };

  const dispatcher = () =>
    new WorkerDispatcher({
      redis: fakeRedis(keys),
      subscriber: fakeSubscriber,
      functions: () => [spec],
      create: () => {
        const w = new FakeWorker(made.length, next.quietMs, next.idleMs);
        made.push(w);
        return w as unknown as FunctionWorker;
      },
      logger: pino({ level: 'silent' }),
      idleMs: 10_000,
      wedgedMs: 15_000,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    made = [];
    keys = new Set();
    next = { quietMs: 0, idleMs: 0 };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is replaced by a new worker once it has been free and quiet for wedgedMs', async () => {
    keys.add(waitingKeys('resize')[0] as string);
    const d = dispatcher();
    await d.start();
    expect(made).toHaveLength(1);
    const first = made[0] as FakeWorker;
    expect(first.started).toBe(true);
    // Quiet, but not yet for long enough: kept.
    first.quietMs = 14_000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(made).toHaveLength(1);
    first.quietMs = 15_000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(made).toHaveLength(2);
    expect(first.closed).toBe(true);
    expect((made[1] as FakeWorker).started).toBe(true);
    expect(d.get('resize')).toBe(made[1]);
    await d.close();
  });

  it('is kept when nothing waits in its queue, or while it may not take a job', async () => {
    next = { quietMs: 60_000, idleMs: 0 };
    keys.add(waitingKeys('resize')[0] as string);
    const d = dispatcher();
    await d.start();
    const w = made[0] as FakeWorker;
    // Free and quiet for a minute, but its queue holds only running or delayed jobs.
    keys.clear();
    await vi.advanceTimersByTimeAsync(3000);
    expect(made).toHaveLength(1);
    expect(w.closed).toBe(false);
    // Jobs wait again, but it is at its concurrency, paused or held off (takesNothingFor is 0).
    keys.add(waitingKeys('resize')[1] as string);
    w.quietMs = 0;
    await vi.advanceTimersByTimeAsync(3000);
    expect(made).toHaveLength(1);
    expect(w.closed).toBe(false);
    await d.close();
    expect(w.closed).toBe(true);
  });
});
