import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { FunctionSpec } from '../manifest/types.js';
import type { Backlog } from '../queue/backlog.js';
import type { IndexEntry, InvocationIndex } from '../queue/invocation-index.js';
import type { PoolCounts } from './admin.js';
import { HttpError } from './errors.js';

export interface ConsoleDeps {
  functions: Record<string, FunctionSpec>;
  index: InvocationIndex;
  backlog: (fn: string) => Promise<Backlog>;
  /** Containers per function and state, over every live platform instance (as in /status). */
  pools: () => Promise<{ byFunction: Record<string, PoolCounts> }>;
  /** How often the live view sends a sample. @defaultValue 1000 ms */
  tickMs?: number;
  /**
   * Aborted when the platform stops: live streams end, so the HTTP server's close (which waits
   * for open responses) is not held up by a browser tab or `faas logs --follow` left open.
   */
  closing?: AbortSignal;
}

/** One sample of `GET /functions/:name/live`. */
export interface LiveSample {
  at: number;
  backlog: Backlog;
  /** Invocations running now (the queue's active jobs). */
  running: number;
  containers: PoolCounts;
  /** Invocations that finished since the previous sample, newest first. */
  finished: IndexEntry[];
}

const EMPTY_POOL: PoolCounts = { starting: 0, idle: 0, busy: 0, draining: 0 };
/** Stats windows people ask for: from a minute to an hour. */
const MAX_MINUTES = 60;
/**
 * How far back each live sample re-reads the index: a record scored just before the previous
 * read but written just after it is still found (ids already sent are skipped).
 */
const LIVE_OVERLAP_MS = 5000;

function minutes(raw: string | undefined): number {
  const m = raw === undefined ? 5 : Number(raw);
  if (!Number.isFinite(m) || m <= 0 || m > MAX_MINUTES)
    throw new HttpError(400, 'bad_request', `minutes must be between 0 and ${MAX_MINUTES}`);
  return m;
}

/**
 * The console's data routes, beside the ones the CLI already uses:
 * `GET /functions/:name/invocations?status=failed&kind=timeout&limit=50` (newest first),
 * `GET /functions/:name/stats?minutes=5`, `GET /invocations/stats?minutes=5` (every function),
 * and `GET /functions/:name/live`, a server-sent event stream with one {@link LiveSample} a
 * second. The caller mounts them behind the bearer token.
 * @example consoleRoutes(app, { functions, index, backlog, pools });
 */
export function consoleRoutes(app: Hono, d: ConsoleDeps): void {
  const known = (name: string): string => {
    if (!d.functions[name]) throw new HttpError(404, 'not_found', `no function named ${name}`);
    return name;
  };

  app.get('/functions/:name/invocations', async (c) => {
    const fn = known(c.req.param('name'));
    const status = c.req.query('status');
    if (status !== undefined && status !== 'succeeded' && status !== 'failed')
      throw new HttpError(400, 'bad_request', 'status must be succeeded or failed');
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    return c.json(await d.index.list(fn, { status, kind: c.req.query('kind') || undefined }, limit));
  });

  app.get('/functions/:name/stats', async (c) => {
    const fn = known(c.req.param('name'));
    const windowMs = minutes(c.req.query('minutes')) * 60_000;
    const stats = await d.index.stats([fn], windowMs, Date.now());
    return c.json({ windowMs, ...stats[fn] });
  });

  app.get('/invocations/stats', async (c) => {
    const windowMs = minutes(c.req.query('minutes')) * 60_000;
    return c.json({
      windowMs,
      functions: await d.index.stats(Object.keys(d.functions), windowMs, Date.now()),
    });
  });

  app.get('/functions/:name/live', (c) => {
    const fn = known(c.req.param('name'));
    const tickMs = d.tickMs ?? 1000;
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      // Finishes already sent (id and time: a re-driven invocation finishes again), with when
      // they finished, forgotten once past the overlap.
      const sent = new Map<string, number>();
      const keyOf = (e: IndexEntry) => `${e.id}@${e.finishedAt}`;
      let last = Date.now();
      while (open && !d.closing?.aborted) {
        const now = Date.now();
        const [backlog, pools, recent] = await Promise.all([
          d.backlog(fn),
          d.pools(),
          d.index.since(fn, last - LIVE_OVERLAP_MS),
        ]);
        const finished = recent.filter((e) => !sent.has(keyOf(e)));
        for (const e of finished) sent.set(keyOf(e), e.finishedAt);
        for (const [k, at] of sent) if (at <= last - LIVE_OVERLAP_MS) sent.delete(k);
        last = now;
        const sample: LiveSample = {
          at: now,
          backlog,
          running: backlog.active,
          containers: pools.byFunction[fn] ?? EMPTY_POOL,
          finished,
        };
        await stream.writeSSE({ event: 'sample', data: JSON.stringify(sample) });
        await stream.sleep(Math.max(0, tickMs - (Date.now() - now)));
      }
    });
  });
}
