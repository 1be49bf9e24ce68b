/**
 * `wait_redis` (scripts/lib.sh), which services:up uses after starting Redis: a Redis that reads
 * a large append-only file back answers LOADING for as long as that takes, and must be waited
 * for rather than reported as failed. The Redis here is a stand-in speaking the protocol, so the
 * loading phase can be made to last as long as each case needs.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LIB = fileURLToPath(new URL('../../scripts/lib.sh', import.meta.url));

/** Answers every command with LOADING while `loading()` holds, then PONG. */
async function standIn(
  loading: () => boolean,
): Promise<{ port: number; server: Server; seen: () => number }> {
  let commands = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => {
      // One reply per command in the chunk (each RESP array starts with '*').
      const n = (d.toString().match(/^\*/gm) ?? []).length;
      for (let i = 0; i < n; i++) {
        commands++;
        s.write(loading() ? '-LOADING Redis is loading the dataset in memory\r\n' : '+PONG\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { port: (server.address() as { port: number }).port, server, seen: () => commands };
}

function waitRedis(
  dir: string,
  port: number,
  pidfile: string,
  env: Record<string, string>,
): Promise<{ code: number | null; err: string }> {
  const child = spawn(
    'bash',
    [
      '-c',
      `source "${LIB}"; wait_redis "$1" "test redis" "$2" "$3"`,
      'wait',
      String(port),
      join(dir, 'r.log'),
      pidfile,
    ],
    {
      env: { ...process.env, FAAS_STATE_DIR: join(dir, 'state'), FAAS_CACHE_DIR: join(dir, 'cache'), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, err })));
}

describe('wait_redis', () => {
  let dir: string;
  const closers: (() => void)[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-redis-wait-'));
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits past the start limit for a Redis that is loading its data set, until it answers PONG', async () => {
    const until = Date.now() + 2500;
    const r = await standIn(() => Date.now() < until);
    closers.push(() => r.server.close());
    const pidfile = join(dir, 'r.pid');
    await writeFile(pidfile, String(process.pid));
    const { code, err } = await waitRedis(dir, r.port, pidfile, { FAAS_REDIS_START_SECS: '1' });
    expect(err).toContain('test redis: answers, and is loading its data set from disk; waiting');
    expect(err).toContain('test redis has loaded its data set');
    expect(code).toBe(0);
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(r.seen()).toBeGreaterThan(2);
  });

  it('fails, naming the log, when the loading process exits', async () => {
    const r = await standIn(() => true);
    closers.push(() => r.server.close());
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    closers.push(() => sleeper.kill('SIGKILL'));
    const pidfile = join(dir, 'r.pid');
    await writeFile(pidfile, String(sleeper.pid));
    setTimeout(() => sleeper.kill('SIGKILL'), 1000);
    const { code, err } = await waitRedis(dir, r.port, pidfile, { FAAS_REDIS_START_SECS: '1' });
    expect(code).toBe(1);
    expect(err).toContain(`test redis exited while loading; see ${join(dir, 'r.log')}`);
  });

  it('fails when the data set is still loading after FAAS_REDIS_LOAD_SECS', async () => {
    const r = await standIn(() => true);
    closers.push(() => r.server.close());
    const pidfile = join(dir, 'r.pid');
    await writeFile(pidfile, String(process.pid));
    const { code, err } = await waitRedis(dir, r.port, pidfile, {
      FAAS_REDIS_START_SECS: '1',
      FAAS_REDIS_LOAD_SECS: '1',
    });
    expect(code).toBe(1);
    expect(err).toContain('test redis is still loading its data set after 1 s');
  });

  it('fails, naming the log, when nothing answers within the start limit', async () => {
    const r = await standIn(() => false);
    const { port } = r;
    await new Promise((res) => r.server.close(res));
    const { code, err } = await waitRedis(dir, port, join(dir, 'none.pid'), { FAAS_REDIS_START_SECS: '1' });
    expect(code).toBe(1);
    expect(err).toContain(`test redis did not start; see ${join(dir, 'r.log')}`);
  });
});
