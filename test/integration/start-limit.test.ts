import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { LABEL_INSTANCE, type ContainerSpec } from '../../src/pool/driver.js';
import { Pool } from '../../src/pool/pool.js';
import { S3Gateway } from '../../src/storage/s3-gateway.js';
import { invoke } from '../../src/worker/invoke.js';
import {
  heartbeat,
  requireEngine,
  requireMinio,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

/** The real driver, counting the engine starts in flight at once. */
class CountingDriver extends DockerDriver {
  inFlight = 0;
  most = 0;
  runs = 0;
  override async run(spec: ContainerSpec): Promise<string> {
    this.runs++;
    this.most = Math.max(this.most, ++this.inFlight);
    try {
      return await super.run(spec);
    } finally {
      this.inFlight--;
    }
  }
}

describe('container starts on real Docker', () => {
  let pool: Pool;
  let stateDir: string;
  let driver: CountingDriver;
  let stopBeat: () => Promise<void>;
  const instance = uniqueName('t').replace(/[^a-z0-9-]/g, '');

  beforeAll(async () => {
    const engine = await requireEngine();
    const image = await requireRuntimeImage(engine);
    stopBeat = await heartbeat(instance);
    stateDir = await mkdtemp(join(tmpdir(), 'faas-starts-'));
    driver = new CountingDriver(engine);
    pool = new Pool({
      driver,
      storage: new S3Gateway(await requireMinio()),
      image,
      instance,
      stateDir,
      logger: silentLogger,
      code: async () => `export const handler = async (event, context) => context.functionName;`,
      prewarm: 0,
      hostCap: 8,
      startConcurrency: 2,
      genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
    });
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await stopBeat?.();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    expect(await driver.list({ [LABEL_INSTANCE]: instance })).toEqual([]);
  });

  it('asks the engine for at most startConcurrency starts at once; every first call is served', async () => {
    const names = ['one', 'two', 'three', 'four', 'five', 'six'];
    const outcomes = await Promise.all(
      names.map((name) => invoke(pool, fnSpec(name), { id: `${name}.1`, event: {}, attempt: 1 })),
    );
    expect(outcomes.map((o) => [o.ok, o.value, o.cold])).toEqual(names.map((n) => [true, n, true]));
    expect(driver.runs).toBe(6);
    expect(driver.most).toBe(2);
  });

  it('starts the first container of a function whose work was announced before any call leases one', async () => {
    const spec = fnSpec('announced');
    pool.register(spec);
    const runs = driver.runs;
    pool.expectWork('announced');
    // Told again at once (another announcement): the guess stands, nothing more starts.
    pool.expectWork('announced');
    const deadline = Date.now() + 20_000;
    while (!pool.snapshot().some((c) => c.fn === 'announced' && c.state === 'ready')) {
      if (Date.now() > deadline) throw new Error('no container of announced became ready within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(driver.runs).toBe(runs + 1);
    const outcome = await invoke(pool, spec, { id: 'announced.1', event: {}, attempt: 1 });
    expect([outcome.ok, outcome.value, outcome.cold, outcome.leaseMs < 1000]).toEqual([
      true,
      'announced',
      true,
      true,
    ]);
    expect(pool.snapshot().filter((c) => c.fn === 'announced')).toHaveLength(1);
  });

  it('starts nothing for announced work of a function it does not serve', () => {
    const runs = driver.runs;
    pool.expectWork('never-registered');
    expect(driver.runs).toBe(runs);
    expect(pool.snapshot().some((c) => c.fn === 'never-registered')).toBe(false);
  });
});
