/**
 * The reaper never fails silently: missed heartbeats, failed sweeps and failed removals are
 * logged and counted. Fakes stand in for Redis and the engine; the pool integration tests cover
 * the reaper against the real ones.
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ContainerDriver } from '../../src/pool/driver.js';
import { Reaper } from '../../src/pool/reaper.js';

function capture(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function fakes(o: { setFails: () => boolean; removeFails: boolean; listFails: () => boolean }) {
  const redis = {
    set: vi.fn(async () => {
      if (o.setFails()) throw new Error('Connection is closed.');
      return 'OK';
    }),
    zadd: vi.fn(async () => 1),
    zrem: vi.fn(async () => 1),
    exists: vi.fn(async () => 0),
    del: vi.fn(async () => 1),
  } as unknown as Redis;
  const driver = {
    list: vi.fn(async (labels: Record<string, string>) => {
      if (o.listFails()) throw new Error('engine unreachable');
      return labels['faas.instance']
        ? []
        : [{ id: 'abcdef0123456789', labels: { 'faas.platform': 'faas', 'faas.instance': 'gone' } }];
    }),
    remove: vi.fn(async () => {
      if (o.removeFails) throw new Error('removal of container abcdef is already in progress');
    }),
  } as unknown as ContainerDriver;
  return { redis, driver };
}

afterEach(() => vi.useRealTimers());

describe('Reaper', () => {
  it('logs and counts missed heartbeats, and says when the heartbeat expired', async () => {
    vi.useFakeTimers();
    let down = false;
    const { redis, driver } = fakes({ setFails: () => down, removeFails: false, listFails: () => false });
    const { logger, lines } = capture();
    const counts = { missed: 0, failures: [] as string[] };
    const reaper = new Reaper(redis, driver, 'me', logger, () => null, {
      missedHeartbeat: () => counts.missed++,
      failure: (op) => counts.failures.push(op),
    });
    await reaper.start();
    down = true;
    await vi.advanceTimersByTimeAsync(12_000);
    expect(counts.missed).toBeGreaterThanOrEqual(11);
    expect(lines.filter((l) => l.msg === 'heartbeat missed').length).toBeGreaterThan(0);
    const expired = lines.filter((l) => l.msg.startsWith('heartbeat expired'));
    expect(expired).toHaveLength(1);
    expect(expired[0]?.level).toBe(50);
    down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lines.some((l) => l.msg === 'heartbeat written again after it had expired')).toBe(true);
    await reaper.stop();
  });

  it('logs and counts failed removals and failed sweeps', async () => {
    vi.useFakeTimers();
    let listDown = false;
    const { redis, driver } = fakes({ setFails: () => false, removeFails: true, listFails: () => listDown });
    const { logger, lines } = capture();
    const failures: string[] = [];
    const reaper = new Reaper(redis, driver, 'me', logger, () => null, {
      missedHeartbeat: () => undefined,
      failure: (op) => failures.push(op),
    });
    await reaper.start();
    expect(failures).toContain('remove');
    expect(lines.some((l) => l.msg.startsWith('could not remove a leftover container'))).toBe(true);
    listDown = true;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(failures).toContain('sweep');
    expect(lines.some((l) => l.msg === 'sweep for leftover containers failed')).toBe(true);
    await reaper.stop();
  });
});
