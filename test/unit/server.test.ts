import { Hono } from 'hono';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer, type ServerLimits } from '../../src/api/server.js';
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
