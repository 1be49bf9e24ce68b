import { Hono, type MiddlewareHandler } from 'hono';
import { allowedMethods, AREAS, ROUTES } from '../http/routes.js';
import type { FunctionSpec } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import type { Enqueue } from '../queue/enqueue.js';
import { functionOfInvocation } from '../queue/names.js';
import { handlerEvent } from '../queue/handler-event.js';
import { jobPayloadSchema } from '../queue/payload.js';
import type { InvocationStatus, RecordStore } from '../queue/records.js';
import type { ResultWaiter } from '../queue/waiter.js';
import { httpResult, webhookRoutes } from '../triggers/webhook/routes.js';
import { adminRoutes, type AdminDeps } from './admin.js';
import { bearerAuth } from './auth.js';
import { consoleRoutes, type ConsoleDeps } from './console.js';
import { deployRoutes, type DeployDeps } from './deploy.js';
import { uiRoutes, type UiDeps } from './ui.js';
import { limitBody } from './body-limit.js';
import { chargeEvents, rateLimit } from './rate-limit.js';
import { accepted, HttpError, onError } from './errors.js';

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
  /** A token that may read /metrics only; when set, it or `token` is required there. */
  metricsToken?: string;
  /** Counts a request whose client went away before it was read (routine, logged at debug). */
  aborted?: () => void;
  bodyLimit: number;
  logger: Logger;
  /** Resolves a webhook secret's environment variable name to its value. */
  secret: (name: string) => string | undefined;
  /** Status and dead-letter routes (admin). */
  admin?: AdminDeps;
  /** Requests per second (and burst) one source may send to webhooks and the invoke API. */
  rateLimit?: { ratePerSec: number; burst: number };
  /** The platform's S3 region, as the events handlers receive carry it. */
  region?: string;
  /** The next tick of each function with a schedule (ms since epoch), for `GET /functions`. */
  nextRuns?: () => Promise<Record<string, number>>;
  /** The web console's data routes (invocation lists, stats, live view), beside the admin routes. */
  console?: Omit<ConsoleDeps, keyof AdminDeps>;
  /** The web console's pages at /ui. */
  ui?: UiDeps;
  /** Deploys, versions, rollback and removal (absent: the API cannot deploy). */
  deploy?: Omit<DeployDeps, 'bodyLimit'>;
  /**
   * The rate limiter, when it must outlive this app (the platform rebuilds the app on every
   * deploy); made from `rateLimit` otherwise.
   */
  rateLimiter?: MiddlewareHandler;
}

/** Most events one batch may carry. */
export const MAX_BATCH_EVENTS = 1000;

/** The events of a batch body, `{ "events": [...] }`, or a 400 naming what is wrong. */
function batchEvents(body: unknown): unknown[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(events))
    throw new HttpError(
      400,
      'invalid_batch',
      'the body must be a JSON object {"events": [...]}, one event each',
    );
  if (events.length === 0) throw new HttpError(400, 'invalid_batch', '"events" is empty: send at least one');
  if (events.length > MAX_BATCH_EVENTS)
    throw new HttpError(
      400,
      'invalid_batch',
      `"events" has ${events.length} events; at most ${MAX_BATCH_EVENTS} go in one request`,
    );
  return events;
}

const ASYNC_YES = ['', '1', 'true', 'yes'];
const ASYNC_NO = ['0', 'false', 'no'];

/**
 * Whether an invoke asks to be queued and answered 202 at once: `?async` (bare, `1`, `true` or
 * `yes`; `0`, `false` or `no` keep it synchronous), or, without the query, Lambda's
 * `X-Amz-Invocation-Type: Event` (`RequestResponse` is synchronous). Anything else is refused, so
 * that a caller who meant async is never kept waiting by a typo.
 * @example invokesAsync('yes', undefined) // true
 * @example invokesAsync(undefined, 'Event') // true
 */
export function invokesAsync(query: string | undefined, invocationType: string | undefined): boolean {
  if (query !== undefined) {
    const v = query.trim().toLowerCase();
    if (ASYNC_YES.includes(v)) return true;
    if (ASYNC_NO.includes(v)) return false;
    throw new HttpError(
      400,
      'invalid_query',
      `async=${query.slice(0, 40)} is not understood: use async=1 (or true, yes) to queue the invocation, async=0 (or false, no) to wait for it`,
    );
  }
  if (invocationType === undefined || invocationType === 'RequestResponse') return false;
  if (invocationType === 'Event') return true;
  throw new HttpError(
    400,
    'invalid_header',
    `X-Amz-Invocation-Type: ${invocationType.slice(0, 40)} is not supported: use Event (queued) or RequestResponse (waits)`,
  );
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
 * @example await startServer(createApp(deps), { port: 8080, hostname: '127.0.0.1', limits, logger });
 */
export function createApp(d: ApiDeps): Hono {
  const app = new Hono();
  const log = d.logger.child({ component: 'api' });
  app.onError(
    onError(
      (err) => log.error({ err: err.message, stack: err.stack }, 'request failed'),
      (err) => {
        log.debug({ err: err.message }, 'client went away mid-request');
        d.aborted?.();
      },
    ),
  );
  app.notFound((c) => {
    // A route that exists for other methods answers 405 and names them (every route is
    // registered by the time a request comes).
    const allow = allowedMethods(app.routes, c.req.path);
    if (allow.length > 0 && !allow.includes(c.req.method))
      throw new HttpError(405, 'method_not_allowed', `${c.req.path} accepts ${allow.join(', ')}`, {
        Allow: allow.join(', '),
      });
    throw new HttpError(404, 'not_found', 'no such route');
  });

  app.get(ROUTES.healthz, async (c) => {
    const report = await d.health();
    return c.json({ status: report.ok ? 'ok' : 'degraded', checks: report.checks }, report.ok ? 200 : 503);
  });
  // Metrics name every function: with a token set, they are not for anyone who can connect.
  app.get(ROUTES.metrics, bearerAuth([d.token, d.metricsToken]), async (c) => {
    const m = await d.metrics();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });

  if (d.rateLimit || d.rateLimiter) {
    const limit = d.rateLimiter ?? rateLimit(d.rateLimit as { ratePerSec: number; burst: number });
    app.use(AREAS.functions, limit);
    for (const spec of Object.values(d.functions)) {
      for (const t of spec.triggers) if (t.type === 'webhook') app.use(t.path, limit);
    }
  }

  const admin = bearerAuth(d.token);
  app.use(ROUTES.functions, admin);
  app.use(AREAS.functions, admin);
  app.use(AREAS.invocations, admin);
  for (const path of [ROUTES.status, ROUTES.dlq, AREAS.dlq, ROUTES.deployments, AREAS.deployments])
    app.use(path, admin);
  if (d.admin) adminRoutes(app, d.admin);
  if (d.deploy) deployRoutes(app, { ...d.deploy, bodyLimit: d.bodyLimit, secret: d.secret });
  // Before /invocations/:id and the webhook paths: /invocations/stats and /ui are never shadowed.
  if (d.admin && d.console) consoleRoutes(app, { ...d.admin, ...d.console });
  if (d.ui) uiRoutes(app, d.ui);

  app.get(ROUTES.functions, async (c) => {
    const next = (await d.nextRuns?.().catch(() => undefined)) ?? {};
    return c.json(
      Object.values(d.functions).map((f) => ({
        name: f.name,
        version: f.version ?? null,
        handler: f.handler,
        runtime: f.runtime,
        timeoutMs: f.timeoutMs,
        memoryBytes: f.memoryBytes,
        cpu: f.cpu,
        concurrency: f.concurrency,
        scale: f.scale,
        triggers: f.triggers.map((t) =>
          // Never the value: whether the variable the trigger names is set in this process.
          t.type === 'webhook'
            ? { ...t, secret: t.secret ? (d.secret(t.secret) ? 'set' : 'missing') : undefined }
            : t,
        ),
        nextRun: next[f.name] !== undefined ? new Date(next[f.name]!).toISOString() : undefined,
      })),
    );
  });

  // Counted as the body streams in (or refused by its Content-Length), never buffered whole first.
  const invokeBodyLimit = limitBody(d.bodyLimit);
  app.post(ROUTES.invoke, invokeBodyLimit, async (c) => {
    const name = c.req.param('name');
    const spec = d.functions[name];
    if (!spec) throw new HttpError(404, 'not_found', `no function named ${name}`);
    const async = invokesAsync(c.req.query('async'), c.req.header('x-amz-invocation-type'));
    const text = await c.req.text();
    const event = parseEvent(text);
    const key = c.req.header('idempotency-key');
    const [invocation] = (await accepted(
      d.enqueue.enqueue([
        {
          functionName: name,
          payload: { source: 'invoke', event, enqueuedAt: Date.now(), sync: !async },
          dedupKey: key ? `idem:${key}` : undefined,
        },
      ]),
    )) as [string];
    if (async) {
      c.header('Location', `/invocations/${invocation}`);
      return c.json({ id: invocation }, 202);
    }
    return httpResult(
      await d.waiter.wait(name, invocation, spec.timeoutMs + 5000, { fresh: key === undefined }),
      invocation,
      spec.timeoutMs,
      false,
    );
  });

  // Many async invocations of one function in one request: queued together (one round trip to
  // Redis), each its own invocation, as if posted one by one to /invoke?async=1.
  app.post(ROUTES.invocations, invokeBodyLimit, async (c) => {
    const name = c.req.param('name');
    if (!d.functions[name]) throw new HttpError(404, 'not_found', `no function named ${name}`);
    const events = batchEvents(parseEvent(await c.req.text()));
    chargeEvents(c, events.length);
    const key = c.req.header('idempotency-key');
    const enqueuedAt = Date.now();
    const ids = await accepted(
      d.enqueue.enqueue(
        events.map((event, i) => ({
          functionName: name,
          payload: { source: 'invoke', event, enqueuedAt, sync: false },
          // The same batch posted again with the same key queues none of its events twice. A
          // namespace of their own: a single invoke keyed `K#0` is not the batch K's first event.
          dedupKey: key ? `idem-batch:${key}#${i}` : undefined,
        })),
      ),
    );
    return c.json({ ids }, 202);
  });

  app.get(ROUTES.invocation, async (c) => {
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
      version: record?.version ?? null,
      // The event as the handler received it; null once the job itself has expired.
      event: payload.success ? handlerEvent(payload.data, d.region ?? 'us-east-1') : null,
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
    wait: (fn, id, ms, fresh) => d.waiter.wait(fn, id, ms, { fresh }),
    secret: d.secret,
    bodyLimit: d.bodyLimit,
  });
  return app;
}
