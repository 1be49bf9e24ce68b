import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import type { ContainerDriver } from '../../src/pool/driver.js';
import { Pool, PoolError } from '../../src/pool/pool.js';
import { StartBackoff } from '../../src/pool/start-backoff.js';
import type { StorageGateway } from '../../src/storage/gateway.js';
import { invoke } from '../../src/worker/invoke.js';
import { fnSpec } from '../helpers/spec.js';

describe('StartBackoff', () => {
  it.each<[string, number, number, number]>([
    ['first failure, random 0: half the base', 1, 0, 500],
    ['first failure, random→1: the base', 1, 0.999999, 1000],
    ['third failure: 4 s at most', 3, 0.999999, 4000],
    ['many failures: capped at 30 s', 12, 0.999999, 30_000],
  ])('%s', (_, failures, random, expected) => {
    const b = new StartBackoff();
    let delay = 0;
    for (let i = 0; i < failures; i++) delay = b.failed('f', 1000, random);
    expect(delay).toBe(expected);
    expect(b.waitFor('f', 1000)).toBe(expected);
    expect(b.waitFor('f', 1000 + expected)).toBe(0);
    expect(b.failuresOf('f')).toBe(failures);
  });

  it('one success ends the pause; keys are separate', () => {
    const b = new StartBackoff();
    b.failed('f', 0, 0.5);
    b.failed('generic:node20', 0, 0.5);
    b.succeeded('f');
    expect(b.waitFor('f', 1)).toBe(0);
    expect(b.failuresOf('f')).toBe(0);
    expect(b.waitFor('generic:node20', 1)).toBeGreaterThan(0);
  });
});

/** An engine that refuses every start, as a stopped dockerd or a missing image does. */
function refusingEngine(): ContainerDriver & { runs: number } {
  const d = {
    runs: 0,
    run: async () => {
      d.runs++;
      throw new Error('connect ENOENT /var/run/docker.sock');
    },
    update: async () => undefined,
    kill: async () => undefined,
    remove: async () => undefined,
    inspect: async () => ({ running: false, oomKilled: false, logTail: '' }),
    wait: async () => undefined,
    list: async () => [],
  };
  return d;
}

describe('a pool whose engine refuses container starts', () => {
  let dir = '';
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = async (driver: ContainerDriver, prewarm = 0): Promise<Pool> => {
    dir = await mkdtemp(join(tmpdir(), 'faas-backoff-'));
    pool = new Pool({
      driver,
      storage: {} as StorageGateway,
      image: 'faas-runtime:test',
      instance: 'backoff-test',
      stateDir: dir,
      logger: silentLogger,
      code: async () => '',
      prewarm,
      hostCap: 4,
      genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
    });
    await pool.start();
    return pool;
  };

  it('hands the invocation back with the pause, and tries the engine once, not once per invocation', async () => {
    const engine = refusingEngine();
    const p = await start(engine);
    const spec = fnSpec('refused');
    const first = await invoke(p, spec, { id: 'refused.1', event: {}, attempt: 1 });
    expect(first.ok).toBe(false);
    expect(first.error?.kind).toBe('no-capacity');
    expect(first.backoffMs).toBeGreaterThanOrEqual(500);
    expect(engine.runs).toBe(1);
    // During the pause, invocations are handed back at once without another start.
    const more = await Promise.all(
      [2, 3, 4, 5, 6].map((i) => invoke(p, spec, { id: `refused.${i}`, event: {}, attempt: 1 })),
    );
    expect(more.every((o) => !o.ok && o.backoffMs !== undefined && o.backoffMs > 0)).toBe(true);
    expect(engine.runs).toBe(1);
    // Decisions of the autoscaler's loop start nothing during the pause either, with a backlog.
    p.observe('refused', { waiting: 50, active: 0, oldestWaitMs: 10 });
    for (let i = 0; i < 20; i++)
      expect(p.rescale()).toEqual([expect.objectContaining({ fn: 'refused', start: 0 })]);
    expect(engine.runs).toBe(1);
  });

  it('a waiting lease is rejected with a PoolError that carries the pause', async () => {
    const p = await start(refusingEngine());
    const err = await p.lease(fnSpec('refused2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolError);
    expect((err as PoolError).backoffMs).toBeGreaterThan(0);
  });

  it('warm generic containers are not restarted in a loop', async () => {
    const engine = refusingEngine();
    await start(engine, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Two tried at start (the warm set's size), then the pause: no more within it.
    expect(engine.runs).toBe(2);
  });
});
