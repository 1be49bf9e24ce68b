import { getRequestListener } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/index.js';
import type { HttpMetrics } from '../observability/http-metrics.js';
import type { Logger } from '../observability/logger.js';
import { parseDuration } from '../util/duration.js';
import { ConnectionCap } from './connection-cap.js';

/** What one client may hold of the server: time to send a request, idle time, connections. */
export interface ServerLimits {
  /** Longest a client may take to send a request's headers (Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** Longest a client may take to send a whole request, body included (`requestTimeout`). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
  /** Connections one source address may hold open; further ones are destroyed as they connect. */
  maxConnectionsPerSource: number;
}

/** The server's limits as configured (see README: FAAS_HEADERS_TIMEOUT and the rest). */
export function serverLimits(config: Config): ServerLimits {
  return {
    headersTimeoutMs: parseDuration(config.FAAS_HEADERS_TIMEOUT),
    requestTimeoutMs: parseDuration(config.FAAS_REQUEST_TIMEOUT),
    keepAliveTimeoutMs: parseDuration(config.FAAS_KEEPALIVE_TIMEOUT),
    maxConnectionsPerSource: config.FAAS_MAX_CONNECTIONS_PER_SOURCE,
  };
}

export interface ServerOptions {
  port: number;
  hostname: string;
  limits: ServerLimits;
  logger: Logger;
  metrics?: HttpMetrics;
  /**
   * How long `close()` lets requests in flight finish before it ends their connections.
   * @defaultValue 10000
   */
  drainMs?: number;
}

export interface RunningServer {
  /** The bound port (useful when asked for 0). */
  port: number;
  /** Stops accepting, ends idle keep-alive connections at once and busy ones after `drainMs`. */
  close(): Promise<void>;
}

/**
 * Node checks header and request timeouts on a timer (30 s by default), which would let a slow
 * client outlive a short timeout several times over: check often enough for the limit to hold.
 */
function checkingInterval(limits: ServerLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2)));
}

/**
 * Serves `app` over HTTP/1.1 with bounded slow, idle and per-source connections.
 * @example const server = await startServer(app, { port: 8080, hostname: '127.0.0.1', limits, logger });
 */
export async function startServer(
  app: { fetch: Parameters<typeof getRequestListener>[0] },
  options: ServerOptions,
): Promise<RunningServer> {
  const { limits, metrics } = options;
  const log = options.logger.child({ component: 'http' });
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(limits),
    },
    getRequestListener(app.fetch, { hostname: options.hostname }),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  const cap = new ConnectionCap(limits.maxConnectionsPerSource);
  server.on('connection', (socket: Socket) => {
    // The socket's peer: behind a proxy, every client shares the proxy's address.
    const source = socket.remoteAddress ?? 'unknown';
    const { admitted, first } = cap.admit(source);
    if (!admitted) {
      metrics?.refused.inc({ reason: 'per_source' });
      if (first) log.warn({ source, cap: cap.perSource }, 'source is at its connection cap: refusing more');
      socket.destroy();
      return;
    }
    metrics?.open.inc();
    socket.once('close', () => {
      cap.release(source);
      metrics?.open.dec();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, an accept error (out of file descriptors under a flood) must not end the
  // process: the server goes on accepting when descriptors free up. One line per 10 s at most,
  // or the flood would fill the log too.
  let warnedAt = -Infinity;
  let since = 0;
  server.on('error', (err) => {
    since++;
    if (Date.now() - warnedAt < 10_000) return;
    log.warn({ err: err.message, errors: since }, 'HTTP server error');
    warnedAt = Date.now();
    since = 0;
  });

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const drainMs = options.drainMs ?? 10_000;
        // A busy connection turns idle when its response is sent: end those as they appear.
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        const force = setTimeout(() => server.closeAllConnections(), drainMs);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
