/**
 * Builds the platform's concrete parts from configuration and a manifest, and starts the roles
 * asked for. `faas up` and the integration tests both start the platform through here.
 */
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freemem, totalmem } from 'node:os';
import Docker from 'dockerode';
import * as Minio from 'minio';
import type { Redis } from 'ioredis';
import type { PoolCounts } from '../api/admin.js';
import { createApp, type HealthReport } from '../api/app.js';
import { serverLimits, startServer } from '../api/server.js';
import { Runtimes } from '../runtimes/index.js';
import { dividePrewarm } from '../runtimes/prewarm.js';
import type { Config } from '../config/index.js';
import type { Manifest } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import { HttpMetrics } from '../observability/http-metrics.js';
import { Metrics, reportedState } from '../observability/metrics.js';
import { DockerDriver } from '../pool/docker-driver.js';
import { Autoscaler } from '../pool/autoscaler.js';
import { Pool } from '../pool/pool.js';
import { liveInstances, Reaper } from '../pool/reaper.js';
import { readBacklog } from '../queue/backlog.js';
import { DeadLetters } from '../queue/dead-letters.js';
import { InvocationIndex } from '../queue/invocation-index.js';
import { Producer } from '../queue/producer.js';
import { countingEnqueue } from '../queue/counting.js';
import { RecordStore } from '../queue/records.js';
import { assertNoEviction, connectRedis, connectRedisFailFast } from '../queue/redis.js';
import { ResultWaiter } from '../queue/waiter.js';
import { ensureBuckets, manifestBuckets } from '../storage/buckets.js';
import { S3Gateway } from '../storage/s3-gateway.js';
import { S3Proxy, type S3ProxyOptions } from '../storage/s3-proxy/proxy.js';
import { CatchUp } from '../triggers/bucket/catchup.js';
import { BucketListener } from '../triggers/bucket/listener.js';
import { configureTargets, minioTargetRoute, TARGET_ARN } from '../triggers/bucket/target.js';
import { bucketDelivery } from '../triggers/bucket/delivery.js';
import { queueHealth, startMessageTriggers, type MessageTriggers } from '../triggers/queue/start.js';
import { parseDuration } from '../util/duration.js';
import { UserError } from '../util/user-error.js';
import { FunctionWorker } from '../worker/worker.js';
import { checkDocker, checkRedis, checkStorage } from './preflight.js';

export interface Roles {
  api: boolean;
  workers: boolean;
  listeners: boolean;
}

export interface Platform {
  instance: string;
  /** The bound HTTP port (useful when configured as 0). */
  port?: number;
  app: ReturnType<typeof createApp>;
  pool?: Pool;
  producer: Producer;
  records: RecordStore;
  listener?: BucketListener;
  redis: Redis;
  stop(): Promise<void>;
}

async function readTargetToken(stateDir: string): Promise<string> {
  const file = join(stateDir, 'minio-events.token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UserError(
      "no token for MinIO's bucket-event target",
      `set FAAS_MINIO_EVENTS_TOKEN or run \`npm run services:up\` (it writes ${file})`,
    );
  }
}

/** Where `services:up` started MinIO's webhook target posting; undefined when it did not. */
async function readTargetEndpoint(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(stateDir, 'minio-events.endpoint'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Refuses to start when a service this process needs does not answer; nothing is started yet. */
async function preflight(config: Config, roles: Roles): Promise<void> {
  await checkRedis(config.REDIS_URL);
  const s3 = s3Client(config);
  try {
    await checkStorage(s3, config.S3_ENDPOINT);
  } finally {
    s3.destroy();
  }
  if (roles.workers) await checkDocker(new Docker());
}

/** The API's port cannot be had: say which and what to do. */
function listenError(err: NodeJS.ErrnoException, config: Config): Error {
  const at = `${config.apiHost}:${config.FAAS_PORT}`;
  if (err.code === 'EADDRINUSE')
    return new UserError(`${at} is in use`, 'stop what listens there, or set FAAS_PORT');
  if (err.code === 'EACCES')
    return new UserError(`no permission to listen on ${at}`, 'set FAAS_PORT above 1023');
  if (err.code === 'EADDRNOTAVAIL')
    return new UserError(`${config.apiHost} is not an address of this host`, 'fix FAAS_HOST');
  return err;
}

/** Default container cap: half the host's memory in 128 MiB containers, at most 64. */
export function defaultHostCap(): number {
  return Math.max(2, Math.min(64, Math.floor((totalmem() * 0.5) / (128 * 1024 * 1024))));
}

/** Longest a health check waits for a dependency: one that does not answer in time is down. */
const HEALTH_TIMEOUT_MS = 2000;

async function timed(
  fn: () => Promise<unknown>,
  timeoutMs = HEALTH_TIMEOUT_MS,
): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([fn(), late]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function s3Client(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

/** Where the containers' S3 requests go, signed with the platform's own credentials. */
export function s3ProxyOptions(config: Config): S3ProxyOptions {
  return {
    endpoint: new URL(config.S3_ENDPOINT),
    region: config.S3_REGION,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  };
}

export function minioClient(config: Config): Minio.Client {
  const url = new URL(config.S3_ENDPOINT);
  const useSSL = url.protocol === 'https:';
  return new Minio.Client({
    endPoint: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.S3_ACCESS_KEY_ID,
    secretKey: config.S3_SECRET_ACCESS_KEY,
    region: config.S3_REGION,
  });
}

/**
 * Starts the platform. Refuses a Redis that evicts keys, and a manifest that failed validation
 * never gets here (the caller loads it first), so nothing starts half-configured.
 */
export async function startPlatform(
  config: Config,
  manifest: Manifest,
  logger: Logger,
  roles: Roles = { api: true, workers: true, listeners: true },
  secrets: Record<string, string | undefined> = {},
  /** The runtimes that already built the handlers, so workers reuse their builds. */
  runtimes = new Runtimes({ cacheDir: config.cacheDir, python: config.FAAS_PYTHON }),
): Promise<Platform> {
  const instance = config.FAAS_INSTANCE ?? `i${randomBytes(4).toString('hex')}`;
  const log = logger.child({ instance });
  const specs = Object.values(manifest.functions);
  const keepSeconds = Math.round(parseDuration(config.FAAS_INVOCATION_TTL) / 1000);

  await preflight(config, roles);
  const redis = connectRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const closers: Array<() => Promise<unknown>> = [async () => redis.quit().catch(() => redis.disconnect())];
  const stop = async () => {
    for (const close of closers.reverse())
      await close().catch((err: Error) => log.warn({ err: err.message }, 'stop step failed'));
  };
  try {
    await assertNoEviction(redis);
    const s3 = s3Client(config);
    closers.push(async () => s3.destroy());
    const docker = new Docker();
    const driver = new DockerDriver(docker, {
      ociRuntime: config.FAAS_OCI_RUNTIME,
      outboundNetwork: config.FAAS_OUTBOUND_NETWORK,
    });
    const records = new RecordStore(redis, keepSeconds);
    // Accepting events uses a fail-fast connection: a webhook gets 503 at once while Redis is down.
    const ingest = connectRedisFailFast(config.REDIS_URL);
    ingest.on('error', () => undefined);
    if (ingest.status !== 'ready') await new Promise((resolve) => ingest.once('ready', resolve));
    closers.push(async () => ingest.quit().catch(() => ingest.disconnect()));
    // The ingest connection's errors are answered per request (503); these are logged at debug.
    const producer = new Producer(ingest, manifest.functions, keepSeconds, (err) =>
      log.debug({ err: err.message }, 'queue connection error'),
    );
    closers.push(() => producer.close());
    // Every trigger hands its events over through this: each is counted by source and outcome.
    const sink = countingEnqueue(producer, (source, outcome, n) =>
      metrics.events.inc({ source, outcome }, n),
    );

    let pool: Pool | undefined;
    const metricsPool = { snapshot: () => pool?.snapshot() ?? [] };
    const metrics = new Metrics(() => specs.map((s) => s.name), metricsPool, {
      backlog: (fn) => readBacklog(producer.queue(fn), Date.now()),
    });
    const httpMetrics = new HttpMetrics(metrics.registry);

    if (roles.workers) {
      const reaper = new Reaper(redis, driver, instance, log, () => pool?.snapshot() ?? [], {
        missedHeartbeat: () => metrics.missedHeartbeats.inc(),
        failure: (op) => metrics.reaperFailures.inc({ op }),
      });
      await reaper.start();
      closers.push(() => reaper.stop());
      // Bundle every function now: a handler that does not build is reported at start.
      await Promise.all(specs.map((s) => runtimes.prepare(s)));
      const s3Proxy = new S3Proxy({
        ...s3ProxyOptions(config),
        onRequest: ({ op, status, denied }) => {
          if (denied) log.debug({ op, status, reason: denied }, 'S3 request from a container refused');
        },
      });
      closers.push(async () => s3Proxy.close());
      pool = new Pool({
        driver,
        storage: new S3Gateway(s3),
        s3: s3Proxy,
        image: await driver.runtimeImage(config.FAAS_RUNTIME_IMAGE),
        // Only the images of runtimes the functions use need exist.
        images: specs.some((s) => s.runtime === 'python3.11')
          ? { 'python3.11': await driver.runtimeImage(config.FAAS_PYTHON_IMAGE, 'python3.11') }
          : {},
        instance,
        stateDir: config.stateDir,
        logger: log,
        code: (spec) => runtimes.code(spec),
        codeDir: (spec) => runtimes.codeDir(spec),
        prewarm: config.FAAS_PREWARM,
        prewarmByRuntime: dividePrewarm(
          config.FAAS_PREWARM,
          specs.map((s) => s.runtime),
        ),
        hostCap: config.FAAS_MAX_CONTAINERS ?? defaultHostCap(),
        genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 128 },
        region: config.S3_REGION,
        onViolation: (fn, reason) => metrics.protocolViolations.inc({ function: fn ?? '', reason }),
      });
      await pool.start();
      const p = pool;
      closers.push(() => p.close());
      const workers = new Map<string, FunctionWorker>();
      const autoscaler = new Autoscaler({
        pool,
        functions: specs,
        backlog: (fn) => readBacklog(producer.queue(fn), Date.now()),
        setConcurrency: (fn, n) => workers.get(fn)?.setConcurrency(n),
        logger: log,
      });
      for (const spec of specs) {
        pool.register(spec);
        const worker = new FunctionWorker({
          spec,
          connection: redis,
          pool,
          records,
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
        closers.push(() => worker.close());
      }
      autoscaler.start();
      closers.push(async () => autoscaler.stop());
    }

    if (roles.listeners) {
      const created = await ensureBuckets(s3, manifestBuckets(manifest));
      if (created.length) log.info({ buckets: created }, 'created buckets the manifest names');
    }
    let listener: BucketListener | undefined;
    const bucketTriggers = specs.some((s) => s.triggers.some((t) => t.type === 'bucket'));
    let targetToken: string | undefined;
    const targetEndpoint =
      roles.listeners && bucketTriggers ? await readTargetEndpoint(config.stateDir) : undefined;
    const delivery = bucketDelivery({
      configured: config.FAAS_BUCKET_EVENTS,
      targetEndpoint,
      bindHost: config.apiHost,
      port: config.FAAS_PORT,
    });
    if (roles.listeners && bucketTriggers && delivery.fallback) log.warn(delivery.fallback);
    const mode = delivery.mode;
    // A fallback lists often: it stands in for the durable queue, and some MinIO builds hold
    // listen-stream events back in batches.
    const catchUpEvery =
      config.FAAS_CATCHUP_INTERVAL ??
      (mode === 'poll' || delivery.fallback ? '2s' : mode === 'listen' ? '30s' : undefined);
    let catchUp: CatchUp | undefined;
    if (roles.listeners && bucketTriggers && catchUpEvery) {
      const gateway = new S3Gateway(s3);
      catchUp = new CatchUp({
        redis,
        list: (b, p, n) => gateway.list(b, p, n),
        functions: specs,
        sink,
        logger: log,
      });
      await catchUp.start(parseDuration(catchUpEvery));
      const c = catchUp;
      closers.push(async () => c.stop());
      log.info({ every: catchUpEvery, mode }, 'catching up on uploads by listing buckets');
    }
    if (roles.listeners && bucketTriggers && mode === 'listen') {
      const c = catchUp;
      listener = new BucketListener({
        client: minioClient(config),
        functions: specs,
        sink,
        logger: log,
        onConnect: () =>
          void c
            ?.run()
            .catch((err: Error) => log.warn({ err: err.message }, 'catch-up after reconnect failed')),
      });
      await listener.start();
      const l = listener;
      closers.push(() => l.stop());
    } else if (roles.listeners && bucketTriggers && mode === 'webhook') {
      targetToken = config.FAAS_MINIO_EVENTS_TOKEN ?? (await readTargetToken(config.stateDir));
      const buckets = await configureTargets(minioClient(config), specs);
      log.info({ buckets, target: TARGET_ARN }, 'MinIO posts bucket events to /minio/events');
    }

    // Queue and schedule triggers: consumers and the schedule worker run wherever listeners do.
    let messages: MessageTriggers | undefined;
    if (roles.listeners) {
      messages = await startMessageTriggers({
        functions: specs,
        sink,
        backlog: async (fn) => (await readBacklog(producer.queue(fn), Date.now())).waiting,
        defaults: { amqp: config.FAAS_AMQP_URL, nats: config.FAAS_NATS_URL, redis: config.REDIS_URL },
        env: secrets,
        consumer: instance,
        region: config.S3_REGION,
        connection: () => redis.duplicate(),
        logger: log,
      });
      const m = messages;
      closers.push(() => m.stop());
    }

    const waiter = new ResultWaiter(
      () => redis.duplicate(),
      records,
      (err, context) => log.warn({ err: err.message, context }, 'result listener error'),
    );
    closers.push(() => waiter.close());
    if (roles.api) await Promise.all(specs.map((s) => waiter.watch(s.name)));
    const health = async (): Promise<HealthReport> => {
      const [r, m, d] = await Promise.all([
        // The fail-fast connection: while Redis is down its ping fails at once instead of
        // waiting in the offline queue of the workers' connection.
        timed(() => ingest.ping()),
        timed(() => s3.send(new ListBucketsCommand({}))),
        timed(() => driver.ping()),
      ]);
      const checks: HealthReport['checks'] = { redis: r, minio: m, docker: d };
      // Named buckets stay out of /healthz (it answers without the token): /status has them.
      if (listener) {
        const down = Object.values(listener.state()).filter((b) => !b.connected).length;
        checks.bucketEvents = down
          ? { ok: false, ms: 0, error: `${down} bucket stream(s) disconnected; see /status` }
          : { ok: true, ms: 0 };
      }
      // Like buckets: /healthz names the broker kinds that are down, /status the triggers.
      if (messages?.consumers.length) checks.queues = queueHealth(messages.state());
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    };
    // Ends the console's live streams first when stopping (see the closer after the server's).
    const closing = new AbortController();
    const app = createApp({
      functions: manifest.functions,
      enqueue: sink,
      records,
      waiter,
      jobStatus: async (fn, id) => {
        const job = await producer.queue(fn).getJob(id);
        if (!job) return undefined;
        const state = await job.getState();
        const status =
          state === 'active'
            ? 'running'
            : state === 'completed'
              ? 'succeeded'
              : state === 'failed'
                ? 'failed'
                : 'queued';
        return {
          status,
          attempts: job.attemptsMade,
          enqueuedAt: job.timestamp,
          finishedOn: job.finishedOn,
          data: job.data as unknown,
        };
      },
      health,
      metrics: () => metrics.render(),
      token: config.FAAS_API_TOKEN,
      metricsToken: config.FAAS_METRICS_TOKEN,
      aborted: () => httpMetrics.aborted.inc(),
      bodyLimit: config.FAAS_BODY_LIMIT,
      logger: log,
      secret: (name) => secrets[name],
      rateLimit: { ratePerSec: config.FAAS_RATE_LIMIT, burst: config.FAAS_RATE_LIMIT * 2 },
      region: config.S3_REGION,
      nextRuns: messages && (() => (messages as MessageTriggers).schedules.nextRuns()),
      console: { index: new InvocationIndex(redis), closing: closing.signal },
      // dist/cli/platform.js serves the bundle beside it in dist/ui/.
      ui: { dir: fileURLToPath(new URL('../ui/', import.meta.url)) },
      admin: {
        functions: manifest.functions,
        backlog: (fn) => readBacklog(producer.queue(fn), Date.now()),
        pools: async () => {
          const live = await liveInstances(redis);
          const byFunction: Record<string, PoolCounts> = {};
          let warm = 0;
          for (const i of live) {
            for (const c of (i.pool as Array<{ fn?: string; state: string; inFlight: number }> | null) ??
              []) {
              const state = reportedState(c);
              if (state === 'warm') warm++;
              if (!c.fn || !['starting', 'idle', 'busy', 'draining'].includes(state)) continue;
              const counts = (byFunction[c.fn] ??= { starting: 0, idle: 0, busy: 0, draining: 0 });
              counts[state as keyof PoolCounts]++;
            }
          }
          return { instances: live.length, byFunction, warm };
        },
        deadLetters: new DeadLetters((fn) => producer.queue(fn), records),
        bucketEvents: () =>
          bucketTriggers && roles.listeners
            ? { mode, fallback: delivery.fallback ?? null, streams: listener?.state() ?? null }
            : null,
        queueTriggers: () => messages?.state() ?? null,
      },
    });

    minioTargetRoute(app, {
      token: targetToken,
      functions: specs,
      enqueue: sink,
      logger: log,
      bodyLimit: config.FAAS_BODY_LIMIT,
      onInvalid: (n) => metrics.events.inc({ source: 'bucket', outcome: 'invalid' }, n),
    });

    let port: number | undefined;
    if (roles.api) {
      const server = await startServer(app, {
        port: config.FAAS_PORT,
        hostname: config.apiHost,
        limits: serverLimits(config),
        logger: log,
        metrics: httpMetrics,
      }).catch((err: NodeJS.ErrnoException) => {
        throw listenError(err, config);
      });
      port = server.port;
      closers.push(() => server.close());
      // Runs before the server's close: closers run in reverse.
      closers.push(async () => closing.abort());
      log.info({ url: `http://${config.apiHost}:${port}` }, 'API listening');
    }
    log.info(
      { functions: specs.map((s) => s.name), freeMemMb: Math.round(freemem() / 1048576) },
      'platform started',
    );
    return { instance, port, app, pool, producer, records, listener, redis, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
