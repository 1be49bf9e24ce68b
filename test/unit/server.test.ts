import { Hono } from 'hono';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer, type ServerLimits } from '../../src/api/server.js';
import { clientOf, parseTrustedProxies } from '../../src/http/client-address.js';
import { silentLogger } from '../../src/observability/logger.js';

const LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxConnectionsPerSource: 10,
};

function get(port: number, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('startServer close()', () => {
  it('ends idle keep-alive connections at once, instead of waiting out their timeout', async () => {
    const app = new Hono().get('/', (c) => c.text('ok'));
    const server = await startServer(app, {
      port: 0,
      hostname: '127.0.0.1',
      limits: LIMITS,
      logger: silentLogger,
    });
    const agent = new Agent({ keepAlive: true });
    try {
      expect(await get(server.port, '/', agent)).toBe(200);
      const t0 = Date.now();
      await server.close();
      // Without ending it, the idle connection would hold close() for the drain time (10 s).
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      agent.destroy();
    }
  });

  it('ends a connection still busy after the drain time', async () => {
    const app = new Hono().get('/never', () => new Promise<Response>(() => undefined));
    const server = await startServer(app, {
      port: 0,
      hostname: '127.0.0.1',
      limits: LIMITS,
      logger: silentLogger,
      drainMs: 300,
    });
    const agent = new Agent({ keepAlive: true });
    const pending = get(server.port, '/never', agent).catch((err: Error) => err.message);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await pending).toBe('socket hang up');
    agent.destroy();
  });

  it('refuses a port already in use', async () => {
    const app = new Hono();
    const first = await startServer(app, {
      port: 0,
      hostname: '127.0.0.1',
      limits: LIMITS,
      logger: silentLogger,
    });
    await expect(
      startServer(app, { port: first.port, hostname: '127.0.0.1', limits: LIMITS, logger: silentLogger }),
    ).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});

describe('startServer behind a trusted proxy', () => {
  function send(port: number, path: string, headers: Record<string, string>, localAddress = '127.0.0.1') {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, localAddress }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
      req.end();
    });
  }

  it('takes the client from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const app = new Hono().get('/', (c) => c.text(clientOf(c)));
    const server = await startServer(app, {
      port: 0,
      hostname: '127.0.0.1',
      limits: { ...LIMITS, trustedProxies: parseTrustedProxies('127.0.0.1') },
      logger: silentLogger,
    });
    try {
      const xff = { 'X-Forwarded-For': '6.6.6.6, 198.51.100.7' };
      expect((await send(server.port, '/', xff)).body).toBe('198.51.100.7');
      // Another loopback address is not a trusted proxy: its X-Forwarded-For is its own claim.
      expect((await send(server.port, '/', xff, '127.0.0.2')).body).toBe('127.0.0.2');
    } finally {
      await server.close();
    }
  });

  it("caps each forwarded client's requests in progress, not the proxy's connections", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const app = new Hono().get('/', async (c) => {
      await held;
      return c.text('ok');
    });
    const server = await startServer(app, {
      port: 0,
      hostname: '127.0.0.1',
      limits: { ...LIMITS, maxConnectionsPerSource: 2, trustedProxies: parseTrustedProxies('127.0.0.1') },
      logger: silentLogger,
    });
    try {
      const a = { 'X-Forwarded-For': '198.51.100.1' };
      const b = { 'X-Forwarded-For': '198.51.100.2' };
      // Four connections from the proxy: more than the cap of 2, as a busy proxy's pool has.
      const pending = [send(server.port, '/', a), send(server.port, '/', a), send(server.port, '/', b)];
      await new Promise((r) => setTimeout(r, 200));
      const third = await send(server.port, '/', a);
      expect(third.status).toBe(429);
      expect(third.body).toContain('198.51.100.1');
      release();
      expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await send(server.port, '/', a)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
