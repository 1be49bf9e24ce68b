import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FunctionSpec } from '../manifest/types.js';
import { Autoscaler } from '../pool/autoscaler.js';
import { DockerDriver } from '../pool/docker-driver.js';
import { Pool } from '../pool/pool.js';
import { Reaper } from '../pool/reaper.js';
import { RedisSlotLedger } from '../pool/slot-ledger.js';
import { S3Gateway } from '../storage/s3-gateway.js';
import { S3Proxy } from '../storage/s3-proxy/proxy.js';
import { parseDuration } from '../util/duration.js';
import { WorkerDispatcher } from '../worker/dispatcher.js';
import { EngineWatch } from '../worker/engine-watch.js';
import { FunctionWorker } from '../worker/worker.js';
import type { Runtimes } from '../runtimes/index.js';
import { dividePrewarm } from '../runtimes/prewarm.js';
import { bundleEntry } from '../runtimes/node/entry.js';
import { isTar } from '../runtimes/tar.js';
import type { FunctionsChange } from './functions.js';
import { serial, type RoleContext } from './roles.js';
import { defaultHostCap, engineApi, s3ProxyOptions } from './services.js';

/** A host whose engine is down holds off a function's jobs this long after handing them back. */
const ENGINE_DOWN_HOLD_MS = 1000;

/** The workers role's parts other roles read; it stops through the closers it registers. */
export interface WorkersRole {
  pool: Pool;
  driver: DockerDriver;
  /** Whether this host's Docker engine answers (status shows an unhealthy host). */
  engine: EngineWatch;
}

/**
 * The workers of this host: the container pool, a queue worker per function that has work (see
 * WorkerDispatcher) and the autoscaler over the functions with something going on. A deploy
 * registers the new version with the pool (its old containers drain) and the worker reads it as
 * each job starts; a removed function's worker finishes what it holds.
 */
export async function startWorkers(
  ctx: RoleContext,
  runtimes: Runtimes,
  closers: Array<() => Promise<unknown>>,
): Promise<WorkersRole> {
  const { config, log, instance, metrics, functions } = ctx;
  const dockerEngine = engineApi(config);
  // Closers run last-first: this one after everything that speaks to the engine.
  closers.push(async () => dockerEngine.close());
  const driver = new DockerDriver(dockerEngine, {
    ociRuntime: config.FAAS_OCI_RUNTIME,
    outboundNetwork: config.FAAS_OUTBOUND_NETWORK,
  });
  // The reaper's heartbeat reports the pool, which needs the reaper started first.
  const ref: { pool?: Pool } = {};
  const reaper = new Reaper(
    ctx.redis,
    driver,
    instance,
    log,
    () => ref.pool?.snapshot() ?? [],
    {
      missedHeartbeat: () => metrics.missedHeartbeats.inc(),
      failure: (op) => metrics.reaperFailures.inc({ op }),
    },
    ctx.cluster,
  );
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
  // A folder runtime's code, unpacked once per hash beside the containers' task folders (the
  // pool hard-links it into each one, so it must be on the same file system).
  const unpacking = new Map<string, Promise<string>>();
  const unpacked = (spec: FunctionSpec): Promise<string> => {
    const hash = spec.codeHash ?? '';
    let dir = unpacking.get(hash);
    if (!dir) {
      dir = unpackCode(ctx, runtimes, spec, join(config.stateDir, 'code'));
      unpacking.set(hash, dir);
      dir.catch(() => unpacking.delete(hash));
    }
    return dir;
  };
  /** Per code hash: whether a Node.js function's stored code is a tar (it ships files). */
  const tars = new Map<string, Promise<boolean>>();
  const shipsFiles = (spec: FunctionSpec): Promise<boolean> => {
    const hash = spec.codeHash ?? '';
    let known = tars.get(hash);
    if (!known) {
      known = ctx.code.get(hash).then(isTar);
      tars.set(hash, known);
      known.catch(() => tars.delete(hash));
    }
    return known;
  };
  const specs = functions.all();
  const p = new Pool({
    driver,
    storage: new S3Gateway(ctx.s3),
    s3: s3Proxy,
    image: await driver.runtimeImage(config.FAAS_RUNTIME_IMAGE),
    // Only the images of runtimes the functions use need exist at start; a deploy that adds the
    // host's first Python function has its image found when its first container starts.
    images: specs.some((s) => s.runtime === 'python3.11')
      ? { 'python3.11': await driver.runtimeImage(config.FAAS_PYTHON_IMAGE, 'python3.11') }
      : {},
    findImage: (runtime) =>
      driver.runtimeImage(
        runtime === 'python3.11' ? config.FAAS_PYTHON_IMAGE : config.FAAS_RUNTIME_IMAGE,
        runtime,
      ),
    instance,
    cluster: ctx.cluster,
    stateDir: config.stateDir,
    logger: log,
    // A Node.js function is stored as its bundle, or, when it ships files beside it, as a tar of
    // its /var/task, unpacked once per version like a folder runtime's code.
    code: async (spec) => {
      if (await shipsFiles(spec))
        return readFile(join(await unpacked(spec), bundleEntry(spec.handler)), 'utf8');
      return (await ctx.code.get(spec.codeHash ?? '')).toString('utf8');
    },
    codeFiles: async (spec) => ((await shipsFiles(spec)) ? unpacked(spec) : undefined),
    codeDir: (spec) => unpacked(spec),
    prewarm: config.FAAS_PREWARM,
    prewarmByRuntime: dividePrewarm(
      config.FAAS_PREWARM,
      specs.map((s) => s.runtime),
    ),
    hostCap: config.FAAS_MAX_CONTAINERS ?? defaultHostCap(),
    startConcurrency: config.FAAS_START_CONCURRENCY,
    // scale.max counts every host's containers of a function: each start takes a slot from here.
    slots: new RedisSlotLedger(ctx.redis, config.FAAS_CLUSTER, instance),
    genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
    region: config.S3_REGION,
    onViolation: (fn, reason) => metrics.protocolViolations.inc({ function: fn ?? '', reason }),
  });
  ref.pool = p;
  await p.start();
  closers.push(() => p.close());

  const dispatcher: WorkerDispatcher = new WorkerDispatcher({
    redis: ctx.redis,
    subscriber: ctx.redis.duplicate(),
    functions: () => functions.all(),
    create: (spec) =>
      new FunctionWorker({
        spec,
        current: () => functions.get(spec.name),
        connection: ctx.redis,
        pool: p,
        startConcurrency: () => p.slots(spec.name),
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
      }),
    // Its first container starts while the new worker connects and takes the job.
    onColdWork: (fn) => p.expectWork(fn),
    logger: log,
  });
  // A stopped engine: take no jobs, hand the ones waiting for a container back to the queue (for
  // other hosts, no attempt spent) and start none, until it answers again.
  const failWaiting = (problem: string) =>
    p.failWaiting({ kind: 'no-capacity', message: problem }, ENGINE_DOWN_HOLD_MS);
  const engine = new EngineWatch({
    ping: () => driver.ping(),
    onDown: (problem) => {
      dispatcher.pause();
      failWaiting(problem);
    },
    whileDown: failWaiting,
    onUp: () => dispatcher.resume(),
    logger: log,
  });
  const autoscaler = new Autoscaler({
    pool: p,
    // Only functions with something going on here: an idle function costs no read; none while
    // the engine is down (no container could start).
    functions: () =>
      functions
        .all()
        .filter(() => engine.healthy)
        .filter((s) => s.scale.min > 0 || dispatcher.has(s.name) || p.holds(s.name)) as FunctionSpec[],
    backlogs: (fns) => ctx.producer.backlogs(fns),
    setConcurrency: (fn, n) => dispatcher.get(fn)?.setConcurrency(n),
    logger: log,
  });
  for (const spec of functions.all()) p.register(spec);
  await dispatcher.start();
  const apply = serial(log, 'apply a deploy to the workers');
  const onChange = (c: FunctionsChange): void => {
    void apply(async () => {
      for (const spec of c.added) p.register(spec);
      for (const { to } of c.changed) {
        p.register(to);
        log.info({ fn: to.name, version: to.version }, 'serving a new version');
      }
      for (const spec of c.removed) {
        p.unregister(spec.name);
        // Finishes the jobs it holds in the background: other functions' deploys do not wait.
        void dispatcher.retire(spec.name).then(() => log.info({ fn: spec.name }, 'removed function drained'));
      }
    });
  };
  functions.on('change', onChange);
  closers.push(async () => {
    functions.off('change', onChange);
    await apply(async () => undefined);
    await dispatcher.close();
  });
  autoscaler.start();
  closers.push(async () => autoscaler.stop());
  engine.start();
  closers.push(async () => engine.stop());
  return { pool: p, driver, engine };
}

/**
 * Unpacks a version's stored code into `<root>/<hash>` once (written aside, then renamed into
 * place, so a process never sees half a folder) and returns that folder.
 */
async function unpackCode(
  ctx: RoleContext,
  runtimes: Runtimes,
  spec: FunctionSpec,
  root: string,
): Promise<string> {
  const hash = spec.codeHash;
  if (!hash) throw new Error(`function ${spec.name} has no deployed code`);
  const dir = join(root, hash);
  if (
    await stat(dir).then(
      () => true,
      () => false,
    )
  )
    return dir;
  const bytes = await ctx.code.get(hash);
  const aside = join(root, `.${hash}.${randomBytes(4).toString('hex')}`);
  await mkdir(aside, { recursive: true, mode: 0o755 });
  try {
    await runtimes.unpack(spec.runtime, bytes, aside);
    await rename(aside, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another process unpacked the same code first: theirs is the same.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(aside, { recursive: true, force: true });
    });
  } catch (err) {
    await rm(aside, { recursive: true, force: true });
    throw err;
  }
  return dir;
}
