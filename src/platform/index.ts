/**
 * The composition root: builds the platform's parts from configuration and starts the roles
 * asked for, all reading one deploy state. `faas up`, `faas api`, `faas worker` and the
 * integration tests start the platform through here; the CLI only parses arguments.
 */
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { freemem } from 'node:os';
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { HealthReport } from '../api/app.js';
import { Bundler } from '../build/bundle.js';
import { clusterLabel, type Config } from '../config/index.js';
import { Runtimes } from '../runtimes/index.js';
import { CodeStore } from '../deploy/code-store.js';
import {
  DeployRefused,
  Deployer,
  deployManifest,
  unsetSecrets,
  whoDeploys,
  type DeployedFunction,
} from '../deploy/deployer.js';
import { DeployState } from '../deploy/state.js';
import { VersionRegistry } from '../deploy/versions.js';
import { UserError } from '../util/user-error.js';
import type { Manifest } from '../manifest/types.js';
import { HttpMetrics } from '../observability/http-metrics.js';
import { startIdleTrim } from '../observability/idle-trim.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { HostBeacon } from '../pool/hosts.js';
import type { Pool } from '../pool/pool.js';
import { coalesceCommands } from '../queue/coalesce.js';
import { countingEnqueue } from '../queue/counting.js';
import { Producer } from '../queue/producer.js';
import { RecordStore } from '../queue/records.js';
import { assertNoEviction, connectRedis, connectRedisFailFast } from '../queue/redis.js';
import { ResultWaiter } from '../queue/waiter.js';
import { parseDuration } from '../util/duration.js';
import { startApi } from './api.js';
import { LiveFunctions } from './functions.js';
import { startListeners, type ListenersRole } from './listeners.js';
import type { RoleContext, Roles } from './roles.js';
import { preflight, s3Client, timed } from './services.js';
import { startWorkers } from './workers.js';

export type { Roles } from './roles.js';
export { defaultHostCap, minioClient, s3Client, s3ProxyOptions } from './services.js';

export interface Platform {
  instance: string;
  /** The bound HTTP port (useful when configured as 0). */
  port?: number;
  /** The HTTP app serving now (it is rebuilt by every deploy). */
  app: () => Hono;
  pool?: Pool;
  producer: Producer;
  records: RecordStore;
  redis: Redis;
  deployer: Deployer;
  functions: LiveFunctions;
  /** What the manifest given at start deployed (empty without one). */
  deployed: DeployedFunction[];
  /**
   * Bundles and deploys a manifest to this cluster, as `faas up --watch` does on every save;
   * resolves once this process serves it.
   */
  deploy(manifest: Manifest, runtimes: Runtimes): Promise<DeployedFunction[]>;
  stop(): Promise<void>;
}

/**
 * Starts the platform. Refuses a Redis that evicts keys. With a manifest (already validated and
 * its handlers bundled by the caller), it first deploys it and makes the cluster's functions
 * match it; without one it serves what is deployed. Nothing starts half-configured.
 */
export async function startPlatform(
  config: Config,
  manifest: Manifest | undefined,
  logger: Logger,
  roles: Roles = { api: true, workers: true, listeners: true },
  secrets: Record<string, string | undefined> = {},
  /** The runtimes that already built the handlers, so the deploy reuses their builds. */
  runtimes = new Runtimes({
    cacheDir: config.cacheDir,
    python: config.FAAS_PYTHON,
    bundler: new Bundler(manifest?.dir),
  }),
): Promise<Platform> {
  const instance = config.FAAS_INSTANCE ?? `i${randomBytes(4).toString('hex')}`;
  const log = logger.child({ instance });
  const keepSeconds = Math.round(parseDuration(config.FAAS_INVOCATION_TTL) / 1000);

  await preflight(config, roles);
  // Every connection of this process (and each one duplicated from these) carries its name in
  // CLIENT LIST: `faas:<instance>`.
  const redis = connectRedis(config.REDIS_URL, `faas:${instance}`);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  // Every worker's completions and records share this connection: one write per turn for all.
  coalesceCommands(redis);
  const closers: Array<() => Promise<unknown>> = [async () => redis.quit().catch(() => redis.disconnect())];
  const stop = async () => {
    for (const close of closers.reverse())
      await close().catch((err: Error) => log.warn({ err: err.message }, 'stop step failed'));
  };
  try {
    await assertNoEviction(redis);
    const s3 = s3Client(config);
    closers.push(async () => s3.destroy());
    const code = new CodeStore(s3, config.FAAS_CODE_BUCKET);
    await code.ensureBucket();
    const registry = new VersionRegistry(redis, config.FAAS_CLUSTER);
    const deployerOf = new Deployer(code, registry);
    let deployed: DeployedFunction[] = [];
    if (manifest && roles.api) {
      // Every signed request to such a webhook would be refused: refuse to start instead.
      const unset = unsetSecrets(Object.values(manifest.functions), (n) => secrets[n]);
      if (unset.length) throw new UserError(unset.join('; '), 'nothing started');
    }
    if (manifest) {
      deployed = await deployManifest(manifest, runtimes, deployerOf, {
        prune: true,
        by: `${whoDeploys()} (faas up)`,
        manifest: manifest.file,
      });
      for (const d of deployed)
        if (d.action !== 'unchanged')
          log.info({ fn: d.name, version: d.version, action: d.action }, 'deployed');
    }
    const subscriber = redis.duplicate();
    subscriber.on('error', () => undefined);
    const state = await DeployState.start(registry, subscriber);
    state.on('error', (err) => log.warn({ err: err.message }, 'reading the deployed versions failed'));
    closers.push(() => state.close());
    const functions = new LiveFunctions(state);

    const records = new RecordStore(redis, keepSeconds);
    // Accepting events uses a fail-fast connection: a webhook gets 503 at once while Redis is down.
    const ingest = connectRedisFailFast(config.REDIS_URL, `faas:${instance}`);
    ingest.on('error', () => undefined);
    // Requests that arrive together queue their events in one write.
    coalesceCommands(ingest);
    if (ingest.status !== 'ready') await new Promise((resolve) => ingest.once('ready', resolve));
    closers.push(async () => ingest.quit().catch(() => ingest.disconnect()));
    // The ingest connection's errors are answered per request (503); these are logged at debug.
    const producer = new Producer(
      ingest,
      () => functions.record(),
      keepSeconds,
      (err) => log.debug({ err: err.message }, 'queue connection error'),
    );
    closers.push(() => producer.close());

    let pool: Pool | undefined;
    const metrics = new Metrics(
      () => functions.all().map((s) => s.name),
      { snapshot: () => pool?.snapshot() ?? [] },
      { backlog: (fn) => producer.backlog(fn) },
    );
    const httpMetrics = new HttpMetrics(metrics.registry);
    // Every trigger hands its events over through this: each is counted by source and outcome.
    const sink = countingEnqueue(producer, (source, outcome, n) =>
      metrics.events.inc({ source, outcome }, n),
    );
    const ctx: RoleContext = {
      config,
      log,
      instance,
      cluster: clusterLabel(config),
      redis,
      s3,
      code,
      records,
      producer,
      sink,
      metrics,
      functions,
      secrets,
    };

    let driverPing: (() => Promise<unknown>) | undefined;
    if (roles.workers) {
      const workers = await startWorkers(ctx, runtimes, closers);
      const hostPool = workers.pool;
      pool = hostPool;
      driverPing = () => workers.driver.ping();
      // This host in `GET /status`: its capacity and containers, and whether it still beats.
      const beacon = new HostBeacon(
        redis,
        config.FAAS_CLUSTER,
        instance,
        () => ({
          capacity: hostPool.hostCap,
          containers: hostPool.snapshot().length,
          healthy: workers.engine.healthy,
          ...(workers.engine.problem !== undefined && { problem: workers.engine.problem }),
        }),
        log,
      );
      await beacon.start();
      closers.push(() => beacon.stop());
    }
    let listeners: ListenersRole | undefined;
    if (roles.listeners) listeners = await startListeners(ctx, closers);

    const waiter = new ResultWaiter(
      () => redis.duplicate(),
      records,
      (err, context) => log.warn({ err: err.message, context }, 'result listener error'),
    );
    closers.push(() => waiter.close());
    const health = async (): Promise<HealthReport> => {
      const [r, m, d] = await Promise.all([
        // The fail-fast connection: while Redis is down its ping fails at once instead of
        // waiting in the offline queue of the workers' connection.
        timed(() => ingest.ping()),
        timed(() => s3.send(new ListBucketsCommand({}))),
        driverPing ? timed(driverPing) : Promise.resolve(undefined),
      ]);
      const checks: HealthReport['checks'] = { redis: r, minio: m, ...(d && { docker: d }) };
      Object.assign(checks, listeners?.health() ?? {});
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    };
    // A change this process made is served here before its answer goes out.
    const settled = () => state.refresh();
    const api = await startApi(
      ctx,
      { waiter, deployer: deployerOf, settled, health, httpMetrics, listeners, listen: roles.api },
      closers,
    );
    // At rest, give back what the start (or the last burst) left in the heap.
    const trim = startIdleTrim(3000, (ms) => log.debug({ ms: Math.round(ms) }, 'idle: heap collected'));
    closers.push(async () => trim.stop());
    log.info(
      {
        functions: functions.all().map((s) => `${s.name}@${s.version}`),
        freeMemMb: Math.round(freemem() / 1048576),
      },
      'platform started',
    );
    return {
      instance,
      port: api.port,
      app: api.app,
      pool,
      producer,
      records,
      redis,
      deployer: deployerOf,
      functions,
      deployed,
      deploy: async (m, r) => {
        const unset = roles.api ? unsetSecrets(Object.values(m.functions), (n) => secrets[n]) : [];
        if (unset.length) throw new DeployRefused(unset);
        const out = await deployManifest(m, r, deployerOf, {
          prune: true,
          by: `${whoDeploys()} (faas up --watch)`,
          manifest: m.file,
        });
        await settled();
        return out;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
