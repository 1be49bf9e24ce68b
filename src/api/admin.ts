import type { Hono } from 'hono';
import { ROUTES } from '../http/routes.js';
import type { FunctionSpec } from '../manifest/types.js';
import type { Host } from '../pool/hosts.js';
import type { Backlog } from '../queue/backlog.js';
import type { DeadLetters } from '../queue/dead-letters.js';
import { HttpError } from './errors.js';

export interface PoolCounts {
  starting: number;
  idle: number;
  busy: number;
  draining: number;
}

export interface AdminDeps {
  functions: Record<string, FunctionSpec>;
  backlog: (fn: string) => Promise<Backlog>;
  /** Containers per function and state, over every live platform instance. */
  pools: () => Promise<{ instances: number; byFunction: Record<string, PoolCounts>; warm: number }>;
  deadLetters: DeadLetters;
  /** The cluster's worker hosts, live and recently down (absent: an empty list). */
  hosts?: () => Promise<Host[]>;
  /** How bucket events reach this process, per bucket where it listens (null without bucket triggers). */
  bucketEvents?: () => unknown;
  /** Each queue trigger's consumer in this process (null where listeners do not run). */
  queueTriggers?: () => unknown;
}

/**
 * The admin routes: `GET /status` (worker hosts, backlog and pools per function) and the dead-letter set
 * (`GET /dlq`, `GET /dlq/:id`, `POST /dlq/:id/retry`, `POST /dlq/retry?function=F`).
 * The caller mounts them behind the bearer token.
 */
export function adminRoutes(app: Hono, d: AdminDeps): void {
  app.get(ROUTES.status, async (c) => {
    const [pools, hosts] = await Promise.all([d.pools(), d.hosts?.() ?? []]);
    const functions = await Promise.all(
      Object.values(d.functions).map(async (f) => ({
        name: f.name,
        backlog: await d.backlog(f.name),
        containers: pools.byFunction[f.name] ?? { starting: 0, idle: 0, busy: 0, draining: 0 },
        scale: f.scale,
      })),
    );
    return c.json({
      instances: pools.instances,
      warm: pools.warm,
      hosts,
      functions,
      bucketEvents: d.bucketEvents?.() ?? null,
      queueTriggers: d.queueTriggers?.() ?? null,
    });
  });

  const known = (fn: string | undefined): string | undefined => {
    if (fn !== undefined && !d.functions[fn])
      throw new HttpError(404, 'not_found', `no function named ${fn}`);
    return fn;
  };

  app.get(ROUTES.dlq, async (c) => {
    const fn = known(c.req.query('function'));
    const names = fn ? [fn] : Object.keys(d.functions);
    return c.json(await d.deadLetters.list(names, Number(c.req.query('limit') ?? 100)));
  });

  app.get(ROUTES.dlqEntry, async (c) => {
    const entry = await d.deadLetters.get(c.req.param('id'));
    if (!entry) throw new HttpError(404, 'not_found', `no dead letter ${c.req.param('id')}`);
    return c.json(entry);
  });

  app.post(ROUTES.dlqRetryAll, async (c) => {
    const fn = known(c.req.query('function'));
    const retried = await d.deadLetters.retryAll(fn ? [fn] : Object.keys(d.functions));
    return c.json({ retried });
  });

  app.post(ROUTES.dlqRetry, async (c) => {
    const ok = await d.deadLetters.retry(c.req.param('id'));
    if (!ok) throw new HttpError(404, 'not_found', `no dead letter ${c.req.param('id')}`);
    return c.json({ retried: [c.req.param('id')] }, 202);
  });
}
