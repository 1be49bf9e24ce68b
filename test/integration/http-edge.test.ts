/**
 * The HTTP edge against `faas up` as its own process: clients that go away mid-body are routine
 * (no error lines, counted in /metrics), slow clients are cut off, one source cannot hold more
 * than FAAS_MAX_CONNECTIONS_PER_SOURCE connections, and /metrics asks for a token once one is set.
 *
 * Each test connects from its own loopback address (Linux routes all of 127.0.0.0/8 to lo), so
 * the per-source cap of one test does not limit another.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';

const TOKEN = randomBytes(24).toString('hex');
const METRICS_TOKEN = randomBytes(24).toString('hex');
const CAP = 5;
const ABORTING_CLIENTS = 320;
/** Generous: the configured timeouts are 1 s (headers) and 2 s (request); Node's own are 60 s and 300 s. */
const CUT_OFF_BOUND_MS = 10_000;

/** Opens a TCP connection from `localAddress` to the platform. */
function open(url: string, localAddress: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), localAddress }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves when `socket` is closed by the server, with the time it took from now. */
function closedWithin(socket: Socket): Promise<number> {
  const t0 = Date.now();
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(0);
    socket.once('close', () => resolve(Date.now() - t0));
  });
}

/**
 * Sends `GET /healthz` on a kept-alive connection and resolves with the status line, or with
 * `closed` when the server ends the connection without answering.
 */
function healthOver(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      // The body is JSON; the answer is complete once it has closed its object.
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) done(text.split('\r\n')[0] as string);
    };
    const onClose = () => done('closed');
    const done = (v: string) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(v);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', () => undefined);
    if (socket.destroyed) return done('closed');
    socket.write('GET /healthz HTTP/1.1\r\nHost: edge\r\nConnection: keep-alive\r\n\r\n');
  });
}

function counter(metrics: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

/** Level-50+ (error, fatal) pino lines, and anything that looks like a stack trace. */
function errorsIn(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /"level":(5|6)\d\b/.test(l) || /\bstack\b|^\s+at |Error: aborted/.test(l));
}

describe('HTTP edge: aborted, slow and crowding clients; /metrics behind a token', () => {
  let p: RunningPlatform;
  const metrics = async (token = TOKEN) =>
    (await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    p = await startPlatformProcess(
      `version: 1
functions:
  edge:
    handler: hook/index.handler
    retry: { attempts: 1 }
    triggers:
      - webhook: { path: /hooks/edge }
`,
      ['hook'],
      {
        FAAS_API_TOKEN: TOKEN,
        FAAS_METRICS_TOKEN: METRICS_TOKEN,
        FAAS_HOST: '127.0.0.1',
        FAAS_HEADERS_TIMEOUT: '1s',
        FAAS_REQUEST_TIMEOUT: '2s',
        FAAS_MAX_CONNECTIONS_PER_SOURCE: String(CAP),
      },
    );
  }, 120_000);

  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
  });

  it(`${ABORTING_CLIENTS} clients leaving mid-body: no error line, no stack, counted, still serving`, async () => {
    const before = counter(await metrics(), 'faas_http_aborted_total');
    const logFrom = p.output().length;
    // At most two clients per address: this is about aborts, not the per-source cap.
    const sockets = await Promise.all(
      Array.from({ length: ABORTING_CLIENTS }, (_, i) => open(p.url, `127.0.1.${(i % 160) + 1}`)),
    );
    sockets.forEach((s, i) => {
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      // Two in three to the webhook, the rest to the invoke API: every route goes through one handler.
      const head =
        i % 3 === 2
          ? `POST /functions/edge/invoke HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n`
          : 'POST /hooks/edge HTTP/1.1\r\n';
      s.write(`${head}Host: edge\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a": "`);
    });
    // Let the server start reading every body, then leave: half with a FIN, half with a reset.
    await new Promise((r) => setTimeout(r, 500));
    sockets.forEach((s, i) => (i % 2 ? s.destroy() : s.resetAndDestroy()));

    const after = await eventually(
      'every aborted request to be counted',
      async () => {
        const n = counter(await metrics(), 'faas_http_aborted_total');
        return n - before >= ABORTING_CLIENTS ? n : undefined;
      },
      20_000,
    );
    expect(after - before).toBe(ABORTING_CLIENTS);
    expect(errorsIn(p.output().slice(logFrom))).toEqual([]);

    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${p.url}/hooks/edge`, { method: 'POST', body: '{"ok":true}' });
    expect(res.status).toBe(202);
  }, 60_000);

  it('a client sending its headers byte by byte is cut off after the header timeout', async () => {
    const s = await open(p.url, '127.0.0.3');
    const closed = closedWithin(s);
    s.write('POST /hooks/edge HTTP/1.1\r\nHost: edge\r\nX-Slow: ');
    let sent = 0;
    const drip = setInterval(() => {
      if (!s.destroyed) s.write('a', () => sent++);
    }, 100);
    try {
      const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 30_000))]);
      expect(ms, 'the server never closed the connection').toBeGreaterThan(0);
      expect(ms).toBeLessThan(CUT_OFF_BOUND_MS);
      expect(sent, 'the client was still sending when cut off').toBeGreaterThan(0);
    } finally {
      clearInterval(drip);
      s.destroy();
    }
  }, 40_000);

  it('a client sending its body byte by byte is cut off after the request timeout, without an error line', async () => {
    const logFrom = p.output().length;
    const s = await open(p.url, '127.0.0.4');
    const closed = closedWithin(s);
    s.write('POST /hooks/edge HTTP/1.1\r\nHost: edge\r\nContent-Length: 100000\r\n\r\n');
    const drip = setInterval(() => {
      if (!s.destroyed) s.write('a');
    }, 100);
    try {
      const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 30_000))]);
      expect(ms, 'the server never closed the connection').toBeGreaterThan(0);
      expect(ms).toBeLessThan(CUT_OFF_BOUND_MS);
    } finally {
      clearInterval(drip);
      s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(errorsIn(p.output().slice(logFrom))).toEqual([]);
  }, 40_000);

  it(`one source may hold ${CAP} connections: more are refused, the first stay open, a closed one frees a place`, async () => {
    const source = '127.0.0.5';
    const refusedBefore = counter(await metrics(), 'faas_http_connections_refused_total');
    const held = await Promise.all(Array.from({ length: CAP }, () => open(p.url, source)));
    // Each answers a request, so each was admitted (and is now idle, kept alive).
    expect(await Promise.all(held.map(healthOver))).toEqual(Array(CAP).fill('HTTP/1.1 200 OK'));

    const extra = await Promise.all([open(p.url, source), open(p.url, source)]);
    expect(await Promise.all(extra.map(healthOver))).toEqual(['closed', 'closed']);
    // Another source is not affected, and the held connections still answer.
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    expect(await healthOver(held[0] as Socket)).toBe('HTTP/1.1 200 OK');
    expect(counter(await metrics(), 'faas_http_connections_refused_total') - refusedBefore).toBe(2);

    const freed = closedWithin(held[1] as Socket);
    (held[1] as Socket).end();
    await freed;
    const status = await eventually('a new connection once one closed', async () => {
      const s = await open(p.url, source);
      const line = await healthOver(s);
      s.destroy();
      return line === 'closed' ? undefined : line;
    });
    expect(status).toBe('HTTP/1.1 200 OK');
    for (const s of held) s.destroy();
  }, 60_000);

  it('/metrics wants the API token or FAAS_METRICS_TOKEN; /healthz stays open and names no function', async () => {
    const status = async (headers: Record<string, string>) =>
      (await fetch(`${p.url}/metrics`, { headers })).status;
    expect(await status({})).toBe(401);
    expect(await status({ authorization: `Bearer ${'x'.repeat(48)}` })).toBe(401);
    expect(await status({ authorization: `Basic ${TOKEN}` })).toBe(401);
    expect(await status({ authorization: `Bearer ${TOKEN}` })).toBe(200);
    expect(await status({ authorization: `Bearer ${METRICS_TOKEN}` })).toBe(200);
    expect(await metrics(METRICS_TOKEN)).toMatch(/^faas_http_aborted_total \d+$/m);
    // The metrics token reads metrics only.
    const fns = await fetch(`${p.url}/functions`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(fns.status).toBe(401);

    const health = await fetch(`${p.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).not.toContain('edge');
  });

  it('logged no error and no stack trace during the whole run', () => {
    expect(errorsIn(p.output())).toEqual([]);
  });
});
