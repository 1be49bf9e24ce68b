import { getRequestListener } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/index.js';
import {
  clientAddress,
  parseTrustedProxies,
  rememberClient,
  type TrustedProxies,
} from '../http/client-address.js';
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
  /**
   * Connections one source address may hold open; further ones are destroyed as they connect.
   * Behind a trusted proxy: requests one client may have in progress at once (429 beyond).
   */
  maxConnectionsPerSource: number;
  /** Peers whose `X-Forwarded-For` names the client (FAAS_TRUSTED_PROXIES); none by default. */
  trustedProxies?: TrustedProxies;
}

/** The server's limits as configured (see README: FAAS_HEADERS_TIMEOUT and the rest). */
export function serverLimits(config: Config): ServerLimits {
  return {
    headersTimeoutMs: parseDuration(config.FAAS_HEADERS_TIMEOUT),
    requestTimeoutMs: parseDuration(config.FAAS_REQUEST_TIMEOUT),
    keepAliveTimeoutMs: parseDuration(config.FAAS_KEEPALIVE_TIMEOUT),
    maxConnectionsPerSource: config.FAAS_MAX_CONNECTIONS_PER_SOURCE,
    trustedProxies: parseTrustedProxies(config.FAAS_TRUSTED_PROXIES ?? ''),
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
  const trusted = limits.trustedProxies ?? parseTrustedProxies('');
  const listener = getRequestListener(app.fetch, { hostname: options.hostname });
  // A proxy's connections carry many clients, pooled: its clients are capped per request, by the
  // address X-Forwarded-For gives, where a client's own connections are capped as they connect.
  const viaProxy = new ConnectionCap(limits.maxConnectionsPerSource);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    if (!trusted.has(peer)) {
      void listener(req, res);
      return;
    }
    const hops = req.headers['x-forwarded-for'];
    const client = clientAddress(peer, Array.isArray(hops) ? hops.join(',') : hops, trusted);
    rememberClient(req, client);
    const { admitted, first } = viaProxy.admit(client);
    if (!admitted) {
      metrics?.refused.inc({ reason: 'per_source' });
      if (first)
        log.warn({ source: client, cap: viaProxy.perSource }, 'client is at its request cap: refusing more');
      const body = JSON.stringify({
        error: {
          code: 'too_many_requests',
          message: `more than ${viaProxy.perSource} requests in progress from ${client}`,
        },
      });
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(body);
      return;
    }
    res.once('close', () => viaProxy.release(client));
    void listener(req, res);
  };
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(limits),
    },
    handle,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  const cap = new ConnectionCap(limits.maxConnectionsPerSource);
  server.on('connection', (socket: Socket) => {
    const source = socket.remoteAddress ?? 'unknown';
    if (trusted.has(source)) {
      metrics?.open.inc();
      socket.once('close', () => metrics?.open.dec());
      return;
    }
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
