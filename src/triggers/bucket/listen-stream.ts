/**
 * One long-lived request to MinIO's listen API (`GET /<bucket>?events=…`), parsed into records.
 *
 * Not the client's `listenBucketNotification`: its NotificationPoller never says when the server
 * has subscribed, its `stop()` only takes effect on the next record (an idle stream stays open, a
 * leaked socket), it re-polls at once on `end` and gives up on `error`. So the platform only signs
 * the request (a presigned URL keeps the credentials inside it) and this module owns the socket.
 *
 * What MinIO does (read in cmd/listen-notification-handlers.go, checked against the server here):
 * - It answers a bad request (missing bucket, bad event name, auth) at once with an XML error.
 * - Otherwise it subscribes, and only then writes anything; the response headers go out with the
 *   first flushed bytes. Headers therefore prove the subscription. On this server the
 *   subscription was in place within a few ms of the request being sent: an upload started right
 *   after the request was written was delivered in every one of 30 trials.
 * - But builds after minio/minio#21651 (Oct 2025) wrap responses in a writer without `Flush`, so
 *   nothing is flushed: headers and records leave the server only in ~2 KB blocks (a record is
 *   ~1.1 KB), and a lone event waits for keepalive bytes to fill the block (~2 min with `ping=1`,
 *   measured). Headers cannot be waited for there, so the stream also counts as open once the
 *   request has been written and `settleMs` passed without an error reply.
 * - Publishing to listeners never blocks: a reader that falls behind loses events. The response
 *   is therefore never paused; records are buffered by the caller instead.
 */
import http from 'node:http';
import https from 'node:https';
import type { StoreApi } from './store-api.js';
import type { Logger } from '../../observability/logger.js';
import type { ListenFilter } from './plan.js';

/** Why a listen stream failed; `code` is MinIO's error code (`NoSuchBucket`) when it sent one. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    message: string,
    readonly code?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ListenStreamOptions {
  client: StoreApi;
  bucket: string;
  filter: ListenFilter;
  logger: Logger;
  /** Count the stream as open this long after the request was written, without headers. */
  settleMs: number;
  /** Seconds between MinIO's empty keepalive records (more bytes through a non-flushing server). */
  pingSeconds: number;
  agent?: http.Agent;
}

export interface ListenHandlers {
  /** The server listens: `headers` when it said so, `settled` when assumed (see above). Once. */
  onOpen(proof: 'headers' | 'settled'): void;
  onRecord(raw: unknown): void;
  /** The stream is gone (never called after `close()`). Once. */
  onClose(err: Error): void;
}

/** An open listen stream. */
export interface ListenStream {
  /** Ends the request; resolves once its socket is closed. No handler is called afterwards. */
  close(): Promise<void>;
}

const SIGNATURE_TTL_S = 60; // checked once, when the request arrives

/** Opens a listen stream for one bucket; see the module comment for how "open" is decided. */
export function openListenStream(opts: ListenStreamOptions, handlers: ListenHandlers): ListenStream {
  let req: http.ClientRequest | undefined;
  let closed = Promise.resolve();
  let settle: NodeJS.Timeout | undefined;
  let opened = false;
  let done = false;

  const open = (proof: 'headers' | 'settled') => {
    clearTimeout(settle);
    if (opened || done) return;
    opened = true;
    handlers.onOpen(proof);
  };
  const end = (err?: Error) => {
    if (done) return;
    done = true;
    clearTimeout(settle);
    req?.destroy();
    if (err) handlers.onClose(err);
  };

  const onResponse = (res: http.IncomingMessage) => {
    if (res.statusCode !== 200) {
      void readSmall(res).then((body) => end(errorFromResponse(res.statusCode ?? 0, body)));
      return;
    }
    open('headers');
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      // Keepalives are bare spaces: trimming keeps an idle stream from growing the buffer.
      pending = (lines.pop() ?? '').trimStart();
      for (const line of lines) if (!done) parseLine(line, opts, handlers);
    });
    res.on('end', () => end(new ListenError('the server ended the stream')));
    res.on('error', (err) => end(err));
    res.on('close', () => end(new ListenError('the connection closed')));
  };

  const query: Record<string, string | string[]> = {
    events: opts.filter.events,
    ping: String(opts.pingSeconds),
  };
  if (opts.filter.prefix) query.prefix = opts.filter.prefix;
  if (opts.filter.suffix) query.suffix = opts.filter.suffix;
  // Arrays become repeated keys (`events=a&events=b`), which MinIO expects.
  const signed = opts.client.listenUrl(opts.bucket, query, SIGNATURE_TTL_S);
  signed.then(
    (url) => {
      if (done) return;
      const get = url.startsWith('https:') ? https.get : http.get;
      req = get(url, opts.agent ? { agent: opts.agent } : {}, onResponse);
      const r = req;
      closed = new Promise((resolve) => r.once('close', () => resolve()));
      req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
      req.on('finish', () => {
        settle = setTimeout(() => open('settled'), opts.settleMs);
      });
      req.on('error', (err) => end(err));
    },
    (err: Error) => end(err),
  );

  return {
    close: () => {
      end();
      return closed;
    },
  };
}

function parseLine(line: string, opts: ListenStreamOptions, handlers: ListenHandlers): void {
  const text = line.trim();
  if (!text) return;
  let records: unknown;
  try {
    records = (JSON.parse(text) as { Records?: unknown }).Records;
  } catch {
    opts.logger.warn(
      { bucket: opts.bucket, line: text.slice(0, 200) },
      'skipped a malformed notification line',
    );
    return;
  }
  if (Array.isArray(records)) for (const r of records) handlers.onRecord(r);
}

async function readSmall(res: http.IncomingMessage): Promise<string> {
  let body = '';
  res.setEncoding('utf8');
  try {
    for await (const chunk of res) {
      body += chunk as string;
      if (body.length > 16_384) break;
    }
  } catch {
    // The status alone still explains the failure.
  }
  return body;
}

function errorFromResponse(status: number, body: string): ListenError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return new ListenError(
    `${status}${code ? ` ${code}` : ''}: ${message ?? (body.slice(0, 200) || 'no body')}`,
    code,
    status,
  );
}
