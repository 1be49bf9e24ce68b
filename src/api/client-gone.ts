import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** How Node and @hono/node-server word a request stream that ended because its client left. */
const DISCONNECT_CODES = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']);
const DISCONNECT_MESSAGES = new Set(['aborted', 'Error: aborted', 'Client connection prematurely closed.']);

/**
 * True when `err` is the request failing because its client went away mid-request (closed the
 * connection before sending the whole body): routine on the internet, not a server fault. It asks
 * the connection, not only the error's wording: the socket must really be gone, so a handler's
 * own error while its client is still there is never mistaken for one.
 * @example if (clientWentAway(err, c)) return c.body(null, 400);
 */
export function clientWentAway(err: unknown, c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || typeof incoming !== 'object') return false;
  const gone = incoming.readableAborted || incoming.socket?.destroyed === true;
  if (!gone) return false;
  if (err === incoming.errored) return true;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  return (
    (typeof e?.code === 'string' && DISCONNECT_CODES.has(e.code)) ||
    e?.name === 'AbortError' ||
    (typeof e?.message === 'string' && DISCONNECT_MESSAGES.has(e.message))
  );
}
