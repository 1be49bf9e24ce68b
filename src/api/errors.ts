import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { clientWentAway } from './client-gone.js';

/**
 * An error that knows its HTTP status. Handlers throw it; one error handler turns it into
 * `{ error: { code, message } }` with that status.
 * @example throw new HttpError(404, 'not_found', `no function named ${name}`);
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More fields of the error object (such as a manifest's `problems`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * What `enqueue` queued; a queue that cannot take it answers 503 (nothing was accepted: the
 * client sends it again later).
 */
export async function accepted<T>(enqueue: Promise<T>): Promise<T> {
  try {
    return await enqueue;
  } catch (err) {
    throw new HttpError(
      503,
      'unavailable',
      `the queue is unavailable, nothing was accepted: ${(err as Error).message}`,
      { 'Retry-After': '5' },
    );
  }
}

/**
 * The app's error handler: HttpError as itself, a client that went away mid-request to
 * `aborted` (nobody reads that answer), anything else to `log` and a 500 without internals.
 */
export function onError(log: (err: Error) => void, aborted: (err: Error) => void = () => undefined) {
  return (err: Error, c: Context) => {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json({ error: { ...err.details, code: err.code, message: err.message } }, err.status);
    }
    if (clientWentAway(err, c)) {
      aborted(err);
      return c.body(null, 400);
    }
    log(err);
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  };
}
