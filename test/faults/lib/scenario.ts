import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { requireDocker, requireRedis } from '../../helpers/services.js';
import { createBuckets } from './effect.js';
import { manifestDir, type FaasProcess } from './processes.js';
import { testS3 } from './senders.js';
import { cleanup } from './services.js';

/** What a fault scenario works with; `s3` and `dir` are set once its `beforeAll` has run. */
export interface Scenario {
  procs: FaasProcess[];
  s3: S3Client;
  dir: string;
}

/**
 * Registers the hooks every fault scenario shares: the services are checked, its buckets made
 * and its manifest written before; its processes, queues, buckets and folder removed after.
 */
export function scenario(o: { fns: string[]; buckets: string[]; manifest: () => string }): Scenario {
  const sc = { procs: [] as FaasProcess[] } as Scenario;
  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    sc.s3 = testS3();
    await createBuckets(sc.s3, o.buckets);
    sc.dir = await manifestDir(o.manifest());
  }, 60_000);
  // A failed scenario shows the end of what each of its platform processes printed.
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const p of sc.procs) {
      console.error(
        `--- faas ${p.role} ${p.instance} (last 6 KB of its output) ---\n${p.output().slice(-6000)}`,
      );
    }
  });
  afterAll(async () => {
    // A beforeAll that failed early left no folder: nothing of it to remove.
    await cleanup({
      procs: sc.procs,
      s3: sc.s3,
      fns: o.fns,
      buckets: o.buckets,
      dirs: sc.dir ? [sc.dir] : [],
    });
  }, 180_000);
  return sc;
}
