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
});
