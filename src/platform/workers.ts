import Docker from 'dockerode';
import type { FunctionSpec } from '../manifest/types.js';
import { Autoscaler } from '../pool/autoscaler.js';
import { DockerDriver } from '../pool/docker-driver.js';
import { Pool } from '../pool/pool.js';
import { Reaper } from '../pool/reaper.js';
import { readBacklog } from '../queue/backlog.js';
import { S3Gateway } from '../storage/s3-gateway.js';
import { S3Proxy } from '../storage/s3-proxy/proxy.js';
import { parseDuration } from '../util/duration.js';
import { FunctionWorker } from '../worker/worker.js';
import type { FunctionsChange } from './functions.js';
import { serial, type RoleContext, type Started } from './roles.js';
import { defaultHostCap, s3ProxyOptions } from './services.js';

export interface WorkersRole extends Started {
  pool: Pool;
  driver: DockerDriver;
}

/**
 * The workers of this host: the container pool, one queue worker per function and the
 * autoscaler. A deploy registers the new version with the pool (its old containers drain) and
 * the worker reads it as each job starts; a removed function's worker finishes what it holds.
 */
export async function startWorkers(
  ctx: RoleContext,
  closers: Array<() => Promise<unknown>>,
): Promise<WorkersRole> {
  const { config, log, instance, metrics, functions } = ctx;
  const driver = new DockerDriver(new Docker(), {
    ociRuntime: config.FAAS_OCI_RUNTIME,
    outboundNetwork: config.FAAS_OUTBOUND_NETWORK,
  });
  // The reaper's heartbeat reports the pool, which needs the reaper started first.
  const ref: { pool?: Pool } = {};
  const reaper = new Reaper(ctx.redis, driver, instance, log, () => ref.pool?.snapshot() ?? [], {
    missedHeartbeat: () => metrics.missedHeartbeats.inc(),
    failure: (op) => metrics.reaperFailures.inc({ op }),
  });
  await reaper.start();
  closers.push(() => reaper.stop());
  // Every current version's code, read now: a bundle missing from the store is reported at start.
  await Promise.all(
    functions
      .all()
      .map((s) =>
        ctx.code
          .get(s.codeHash ?? '')
          .catch((err: Error) =>
            log.error({ fn: s.name, version: s.version, err: err.message }, 'no code for a function'),
          ),
      ),
  );
  const s3Proxy = new S3Proxy({
    ...s3ProxyOptions(config),
    onRequest: ({ op, status, denied }) => {
      if (denied) log.debug({ op, status, reason: denied }, 'S3 request from a container refused');
    },
  });
  closers.push(async () => s3Proxy.close());
  const p = new Pool({
    driver,
    storage: new S3Gateway(ctx.s3),
    s3: s3Proxy,
    image: await driver.runtimeImage(config.FAAS_RUNTIME_IMAGE),
    instance,
    stateDir: config.stateDir,
    logger: log,
    code: async (spec) => (await ctx.code.get(spec.codeHash ?? '')).toString('utf8'),
    prewarm: config.FAAS_PREWARM,
    hostCap: config.FAAS_MAX_CONTAINERS ?? defaultHostCap(),
    genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
    region: config.S3_REGION,
    onViolation: (fn, reason) => metrics.protocolViolations.inc({ function: fn ?? '', reason }),
  });
  ref.pool = p;
  await p.start();
  closers.push(() => p.close());

  const workers = new Map<string, FunctionWorker>();
  const autoscaler = new Autoscaler({
    pool: p,
    functions: () => functions.all() as FunctionSpec[],
    backlog: (fn) => readBacklog(ctx.producer.queue(fn), Date.now()),
    setConcurrency: (fn, n) => workers.get(fn)?.setConcurrency(n),
    logger: log,
  });
  const add = (spec: FunctionSpec): void => {
    p.register(spec);
    const worker = new FunctionWorker({
      spec,
      current: () => functions.get(spec.name),
      connection: ctx.redis,
      pool: p,
      records: ctx.records,
      logger: log,
      region: config.S3_REGION,
      lockMarginMs: parseDuration(config.FAAS_LOCK_MARGIN),
      stalledIntervalMs: parseDuration(config.FAAS_STALLED_INTERVAL),
      onOutcome: (s, o) => {
        metrics.invocations.inc({ function: s.name, outcome: o.ok ? 'ok' : (o.error?.kind ?? 'error') });
        if (o.durationMs) metrics.duration.observe({ function: s.name }, o.durationMs / 1000);
        if (o.cold) metrics.coldStarts.inc({ function: s.name, prewarmed: String(o.prewarmed) });
      },
    });
    worker.start();
    workers.set(spec.name, worker);
  };
  for (const spec of functions.all()) add(spec);
  const apply = serial(log, 'apply a deploy to the workers');
  const onChange = (c: FunctionsChange): void => {
    void apply(async () => {
      for (const spec of c.added) add(spec);
      for (const { to } of c.changed) {
        p.register(to);
        log.info({ fn: to.name, version: to.version }, 'serving a new version');
      }
      for (const spec of c.removed) {
        const worker = workers.get(spec.name);
        workers.delete(spec.name);
        p.unregister(spec.name);
        // Finishes the jobs it holds in the background: other functions' deploys do not wait.
        if (worker) void worker.close().then(() => log.info({ fn: spec.name }, 'removed function drained'));
      }
    });
  };
  functions.on('change', onChange);
  closers.push(async () => {
    functions.off('change', onChange);
    await apply(async () => undefined);
    await Promise.all([...workers.values()].map((w) => w.close()));
  });
  autoscaler.start();
  closers.push(async () => autoscaler.stop());
  return { pool: p, driver, stop: async () => undefined };
}
