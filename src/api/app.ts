import { Hono } from 'hono';
import type { FunctionSpec } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import type { Enqueue } from '../queue/enqueue.js';
import { functionOfInvocation } from '../queue/names.js';
import { handlerEvent, jobPayloadSchema } from '../queue/payload.js';
import type { InvocationStatus, RecordStore } from '../queue/records.js';
import type { ResultWaiter } from '../queue/waiter.js';
import { httpResult, webhookRoutes } from '../triggers/webhook/routes.js';
import { adminRoutes, type AdminDeps } from './admin.js';
import { bearerAuth } from './auth.js';
import { consoleRoutes, type ConsoleDeps } from './console.js';
import { uiRoutes, type UiDeps } from './ui.js';
import { limitBody } from './body-limit.js';
import { rateLimit } from './rate-limit.js';
import { HttpError, onError } from './errors.js';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; ms: number; error?: string }>;
}

export interface ApiDeps {
  functions: Record<string, FunctionSpec>;
  enqueue: Enqueue;
  records: RecordStore;
  waiter: ResultWaiter;
  /** Status of a job that has no record yet (queued or running), or undefined if unknown. */
  jobStatus: (
    fn: string,
    id: string,
  ) => Promise<
    | {
        status: InvocationStatus;
        attempts: number;
        enqueuedAt: number;
        /** When the job completed or failed for good. */
        finishedOn?: number;
        /** The job's payload, as queued. */
        data?: unknown;
      }
    | undefined
  >;
  health: () => Promise<HealthReport>;
  metrics: () => Promise<{ contentType: string; body: string }>;
  token?: string;
  bodyLimit: number;
  logger: Logger;
  /** Resolves a webhook secret's environment variable name to its value. */
  secret: (name: string) => string | undefined;
  /** Status and dead-letter routes (admin). */
  admin?: AdminDeps;
  /** Requests per second (and burst) one source may send to webhooks and the invoke API. */
  rateLimit?: { ratePerSec: number; burst: number };
  /** The web console's data routes (invocation lists, stats, live view), beside the admin routes. */
  console?: Omit<ConsoleDeps, keyof AdminDeps>;
  /** The web console's pages at /ui. */
  ui?: UiDeps;
}

function parseEvent(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

/**
 * The HTTP API: invoke functions, read invocations, list functions, health and metrics.
 * @example serve({ fetch: createApp(deps).fetch, port: 8080, hostname: '127.0.0.1' });
 */
export function createApp(d: ApiDeps): Hono {
  const app = new Hono();
  const log = d.logger.child({ component: 'api' });
  app.onError(onError((err) => log.error({ err: err.message, stack: err.stack }, 'request failed')));
  app.notFound(() => {
    throw new HttpError(404, 'not_found', 'no such route');
  });

  app.get('/healthz', async (c) => {
    const report = await d.health();
    return c.json({ status: report.ok ? 'ok' : 'degraded', checks: report.checks }, report.ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const m = await d.metrics();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });

  if (d.rateLimit) {
    const limit = rateLimit(d.rateLimit);
    app.use('/functions/*', limit);
    for (const spec of Object.values(d.functions)) {
      for (const t of spec.triggers) if (t.type === 'webhook') app.use(t.path, limit);
    }
  }

  const admin = bearerAuth(d.token);
  app.use('/functions', admin);
  app.use('/functions/*', admin);
  app.use('/invocations/*', admin);
  for (const path of ['/status', '/dlq', '/dlq/*']) app.use(path, admin);
  if (d.admin) adminRoutes(app, d.admin);
  // Before /invocations/:id and the webhook paths: /invocations/stats and /ui are never shadowed.
  if (d.admin && d.console) consoleRoutes(app, { ...d.admin, ...d.console });
  if (d.ui) uiRoutes(app, d.ui);

  app.get('/functions', (c) =>
    c.json(
      Object.values(d.functions).map((f) => ({
        name: f.name,
        handler: f.handler,
        runtime: f.runtime,
        timeoutMs: f.timeoutMs,
        memoryBytes: f.memoryBytes,
        cpu: f.cpu,
        concurrency: f.concurrency,
        scale: f.scale,
        triggers: f.triggers.map((t) =>
          t.type === 'webhook' ? { ...t, secret: t.secret ? 'set' : undefined } : t,
        ),
      })),
    ),
  );

  // Counted as the body streams in (or refused by its Content-Length), never buffered whole first.
  const invokeBodyLimit = limitBody(d.bodyLimit);
  app.post('/functions/:name/invoke', invokeBodyLimit, async (c) => {
    const name = c.req.param('name');
    const spec = d.functions[name];
    if (!spec) throw new HttpError(404, 'not_found', `no function named ${name}`);
    const text = await c.req.text();
    const event = parseEvent(text);
    const async = ['1', 'true'].includes(c.req.query('async') ?? '');
    const key = c.req.header('idempotency-key');
    let invocation: string;
    try {
      [invocation] = (await d.enqueue.enqueue([
        {
          functionName: name,
          payload: { source: 'invoke', event, enqueuedAt: Date.now(), sync: !async },
          dedupKey: key ? `idem:${key}` : undefined,
        },
      ])) as [string];
    } catch (err) {
      throw new HttpError(
        503,
        'unavailable',
        `the queue is unavailable, nothing was accepted: ${(err as Error).message}`,
        {
          'Retry-After': '5',
        },
      );
    }
    if (async) {
      c.header('Location', `/invocations/${invocation}`);
      return c.json({ id: invocation }, 202);
    }
    return httpResult(
      await d.waiter.wait(name, invocation, spec.timeoutMs + 5000),
      invocation,
      spec.timeoutMs,
      false,
    );
  });

  app.get('/invocations/:id', async (c) => {
    const id = c.req.param('id');
    const fn = functionOfInvocation(id);
    if (!fn) throw new HttpError(404, 'not_found', `no invocation ${id}`);
    let record = await d.records.get(id);
    // Read even beside a finished record: the job's completion time ends the timing waterfall.
    const job = await d.jobStatus(fn, id);
    // The worker writes the record just before the job completes: a job seen finished after a
    // record was missing means the record is there now.
    if (
      (!record || record.status === 'queued') &&
      job &&
      (job.status === 'succeeded' || job.status === 'failed')
    )
      record = (await d.records.get(id)) ?? record;
    if (!record && !job) throw new HttpError(404, 'not_found', `no invocation ${id}`);
    const finished = record && (record.status === 'succeeded' || record.status === 'failed');
    const payload = jobPayloadSchema.safeParse(job?.data);
    return c.json({
      id,
      function: fn,
      // The event as the handler received it; null once the job itself has expired.
      event: payload.success ? handlerEvent(payload.data) : null,
      status: finished ? record?.status : (job?.status ?? record?.status),
      result: record?.result ?? null,
      error: record?.error ?? null,
      logs: record?.logs ?? [],
      attempts: Math.max(record?.attempts ?? 0, job?.attempts ?? 0),
      timings: record ? { ...record.timings, completedAt: job?.finishedOn } : { enqueuedAt: job?.enqueuedAt },
      cold: record?.cold ?? null,
      prewarmed: record?.prewarmed ?? null,
      container: record?.container ?? null,
      history: record?.history ?? [],
    });
  });

  webhookRoutes(app, {
    functions: Object.values(d.functions),
    enqueue: d.enqueue,
    wait: (fn, id, ms) => d.waiter.wait(fn, id, ms),
    secret: d.secret,
    bodyLimit: d.bodyLimit,
  });
  return app;
}
