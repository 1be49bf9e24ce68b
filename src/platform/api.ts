import type { Hono } from 'hono';
import { fileURLToPath } from 'node:url';
import type { PoolCounts } from '../api/admin.js';
import { createApp, type ApiDeps, type HealthReport } from '../api/app.js';
import { rateLimit } from '../api/rate-limit.js';
import { serverLimits, startServer } from '../api/server.js';
import type { Deployer } from '../deploy/deployer.js';
import type { HttpMetrics } from '../observability/http-metrics.js';
import { reportedState } from '../observability/metrics.js';
import { readHosts } from '../pool/hosts.js';
import { liveInstances } from '../pool/reaper.js';
import { DeadLetters } from '../queue/dead-letters.js';
import { WORK_CHANNEL } from '../queue/names.js';
import { InvocationIndex } from '../queue/invocation-index.js';
import type { InvocationStatus } from '../queue/records.js';
import type { ResultWaiter } from '../queue/waiter.js';
import { minioTargetRoute } from '../triggers/bucket/target.js';
import type { ListenersRole } from './listeners.js';
import { serial, type RoleContext } from './roles.js';
import { listenError } from './services.js';

/** A BullMQ job state as an invocation's status. */
export function jobStatusOf(state: string): InvocationStatus {
  if (state === 'active') return 'running';
  if (state === 'completed') return 'succeeded';
  if (state === 'failed') return 'failed';
  return 'queued';
}

/** Containers per function and state over every live platform instance, from their heartbeats. */
export async function poolsOfAllInstances(
  redis: RoleContext['redis'],
): Promise<{ instances: number; byFunction: Record<string, PoolCounts>; warm: number }> {
  const live = await liveInstances(redis);
  const byFunction: Record<string, PoolCounts> = {};
  let warm = 0;
  for (const i of live) {
    for (const c of (i.pool as Array<{ fn?: string; state: string; inFlight: number }> | null) ?? []) {
      const state = reportedState(c);
      if (state === 'warm') warm++;
      if (!c.fn || !['starting', 'idle', 'busy', 'draining'].includes(state)) continue;
      const counts = (byFunction[c.fn] ??= { starting: 0, idle: 0, busy: 0, draining: 0 });
      counts[state as keyof PoolCounts]++;
    }
  }
  return { instances: live.length, byFunction, warm };
}

export interface ApiRoleOptions {
  waiter: ResultWaiter;
  deployer: Deployer;
  /** Resolves once this process serves the registry's latest change. */
  settled: () => Promise<void>;
  health: () => Promise<HealthReport>;
  httpMetrics: HttpMetrics;
  listeners?: ListenersRole;
  /** Whether this process serves HTTP (the app exists either way, for tests that call it). */
  listen: boolean;
}

/**
 * The HTTP API. Its routes follow the deployed functions: every deploy builds the app anew
 * (webhook paths, function routes) and the server hands each new request to the latest one;
 * requests already in progress finish on the app that took them.
 */
export async function startApi(
  ctx: RoleContext,
  o: ApiRoleOptions,
  closers: Array<() => Promise<unknown>>,
): Promise<{ app: () => Hono; port?: number }> {
  const { config, log, functions } = ctx;
  // Ends the console's live streams first when stopping (see the closer after the server's).
  const closing = new AbortController();
  const limiter = rateLimit({ ratePerSec: config.FAAS_RATE_LIMIT, burst: config.FAAS_RATE_LIMIT * 2 });
  const index = new InvocationIndex(ctx.redis);
  const deadLetters = new DeadLetters(
    (fn) => ctx.producer.queue(fn),
    ctx.records,
    (fn) => void ctx.redis.publish(WORK_CHANNEL, fn).catch(() => undefined),
  );
  const build = (): Hono => {
    const deps: ApiDeps = {
      functions: functions.record(),
      enqueue: ctx.sink,
      records: ctx.records,
      waiter: o.waiter,
      jobStatus: async (fn, id) => {
        const job = await ctx.producer.queue(fn).getJob(id);
        if (!job) return undefined;
        return {
          status: jobStatusOf(await job.getState()),
          attempts: job.attemptsMade,
          enqueuedAt: job.timestamp,
          finishedOn: job.finishedOn,
          data: job.data as unknown,
        };
      },
      health: o.health,
      metrics: () => ctx.metrics.render(),
      token: config.FAAS_API_TOKEN,
      metricsToken: config.FAAS_METRICS_TOKEN,
      aborted: () => o.httpMetrics.aborted.inc(),
      bodyLimit: config.FAAS_BODY_LIMIT,
      logger: log,
      secret: (name) => ctx.secrets[name],
      rateLimiter: limiter,
      region: config.S3_REGION,
      nextRuns: o.listeners && (() => (o.listeners as ListenersRole).nextRuns()),
      console: { index, closing: closing.signal },
      // dist/platform/api.js serves the bundle beside it in dist/ui/.
      ui: { dir: fileURLToPath(new URL('../ui/', import.meta.url)) },
      admin: {
        functions: functions.record(),
        backlog: (fn) => ctx.producer.backlog(fn),
        pools: () => poolsOfAllInstances(ctx.redis),
        hosts: () => readHosts(ctx.redis, config.FAAS_CLUSTER),
        deadLetters,
        bucketEvents: () => o.listeners?.bucketEvents() ?? null,
        queueTriggers: () => o.listeners?.queueTriggers() ?? null,
      },
      deploy: { deployer: o.deployer, functions: () => functions.all(), settled: o.settled },
    };
    const app = createApp(deps);
    minioTargetRoute(app, {
      token: o.listeners?.targetToken(),
      functions: [...functions.all()],
      enqueue: ctx.sink,
      logger: log,
      bodyLimit: config.FAAS_BODY_LIMIT,
      onInvalid: (n) => ctx.metrics.events.inc({ source: 'bucket', outcome: 'invalid' }, n),
    });
    return app;
  };

  let app = build();
  const watch = async (names: string[]) => {
    if (o.listen) await Promise.all(names.map((n) => o.waiter.watch(n)));
  };
  await watch(functions.all().map((s) => s.name));
  const apply = serial(log, 'apply a deploy to the API');
  const onChange = (): void => {
    void apply(async () => {
      await watch(functions.all().map((s) => s.name));
      app = build();
    });
  };
  functions.on('change', onChange);
  closers.push(async () => functions.off('change', onChange));

  let port: number | undefined;
  if (o.listen) {
    const server = await startServer(
      { fetch: (req: Request, env?: unknown) => app.fetch(req, env) },
      {
        port: config.FAAS_PORT,
        hostname: config.apiHost,
        limits: serverLimits(config),
        logger: log,
        metrics: o.httpMetrics,
      },
    ).catch((err: NodeJS.ErrnoException) => {
      throw listenError(err, config);
    });
    port = server.port;
    closers.push(() => server.close());
    // Runs before the server's close: closers run in reverse.
    closers.push(async () => closing.abort());
    log.info({ url: `http://${config.apiHost}:${port}` }, 'API listening');
  }
  return { app: () => app, port };
}
