import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { LABEL_INSTANCE } from '../../src/pool/driver.js';
import { Pool } from '../../src/pool/pool.js';
import { S3Gateway } from '../../src/storage/s3-gateway.js';
import { invoke } from '../../src/worker/invoke.js';
import {
  heartbeat,
  requireEngine,
  requireMinio,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

const CODE: Record<string, string> = {
  echo: `export async function handler(event, context) { console.log('got', event.n); return { n: event.n, fn: context.functionName, id: context.invocationId, left: context.getRemainingTimeInMillis() > 0 }; }`,
  thrower: `export const handler = async () => { throw new TypeError('bad input'); };`,
  exiter: `export const handler = async () => { process.exit(1); };`,
  marshal: `export const handler = async () => ({ n: 1n });`,
  streams: `import { Console } from 'node:console';
  const own = new Console({ stdout: process.stdout, stderr: process.stderr });
  export const handler = async (event) => {
    process.stdout.write('direct out ' + event.n + '\\n');
    process.stderr.write(Buffer.from('direct err\\n'));
    // One character cut between two writes.
    process.stdout.write(Buffer.from([0xc3]));
    process.stdout.write(Buffer.from([0xa9, 0x0a]));
    process.stdout.write('in ');
    await new Promise((r) => setTimeout(r, 5));
    process.stdout.write('two parts\\nand a tail');
    own.log('via its own Console');
    own.error('an error via its own Console');
    return 'written';
  };`,
  'async-thrower': `export const handler = async () => {
    setTimeout(() => { throw new Error('async boom'); }, 5);
    await new Promise((r) => setTimeout(r, 2000));
    return 'late';
  };`,
  looper: `export const handler = async () => { for (;;) {} };`,
  hog: `export const handler = async () => { const a = []; for (;;) a.push(Buffer.alloc(1024 * 1024, 1)); };`,
  callback: `export const handler = (event, context, cb) => { setTimeout(() => cb(null, { cb: event.n }), 5); };`,
  // Answers with the version it was loaded as; sleeps for event.ms (to hold a slot).
  versioned: `export const handler = async (event, context) => { await new Promise((r) => setTimeout(r, event.ms ?? 0)); return context.functionVersion; };`,
};

/** Waits (up to 10 s) until `done` holds. */
async function heartbeatUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pool on real Docker', () => {
  let pool: Pool;
  let stateDir: string;
  let driver: DockerDriver;
  let stopBeat: () => Promise<void>;
  const instance = uniqueName('t').replace(/[^a-z0-9-]/g, '');

  beforeAll(async () => {
    const engine = await requireEngine();
    const image = await requireRuntimeImage(engine);
    stopBeat = await heartbeat(instance);
    stateDir = await mkdtemp(join(tmpdir(), 'faas-pool-'));
    driver = new DockerDriver(engine);
    pool = new Pool({
      driver,
      storage: new S3Gateway(await requireMinio()),
      image,
      instance,
      stateDir,
      logger: silentLogger,
      code: async (spec) => CODE[spec.name] ?? '',
      prewarm: 1,
      hostCap: 8,
      genericLimits: { memoryBytes: 256 * 1024 * 1024, cpu: 1, pids: 128 },
    });
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await stopBeat?.();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    expect(await driver.list({ [LABEL_INSTANCE]: instance })).toEqual([]);
  });

  it('serves invocations warm after the first, with logs per invocation', async () => {
    const spec = fnSpec('echo');
    const first = await invoke(pool, spec, { id: 'echo.1', event: { n: 1 }, attempt: 1 });
    const second = await invoke(pool, spec, { id: 'echo.2', event: { n: 2 }, attempt: 1 });
    expect(first).toMatchObject({
      ok: true,
      value: { n: 1, fn: 'echo', id: 'echo.1', left: true },
      cold: true,
    });
    expect(second).toMatchObject({ ok: true, value: { n: 2 }, cold: false });
    expect(second.logs.map((l) => l.msg)).toEqual(['got 2']);
    expect(second.container).toBe(first.container);
  });

  it('serves a new version on new containers while the old one finishes and drains', async () => {
    const v1 = fnSpec('versioned', { version: 1 });
    const v2 = fnSpec('versioned', { version: 2 });
    pool.register(v1);
    const warm = await invoke(pool, v1, { id: 'ver.1', event: {}, attempt: 1 });
    expect(warm).toMatchObject({ ok: true, value: '1', version: 1 });
    // An invocation holds the v1 container while v2 becomes current.
    const held = invoke(pool, v1, { id: 'ver.2', event: { ms: 1500 }, attempt: 1 });
    await new Promise((r) => setTimeout(r, 200));
    pool.register(v2);
    const old = pool.snapshot().find((c) => c.name === warm.container);
    expect(old).toMatchObject({ state: 'draining', version: 1, inFlight: 1 });
    // Asked for with the spec the caller knew (v1), a new invocation still runs the current one.
    const next = await invoke(pool, v1, { id: 'ver.3', event: {}, attempt: 1 });
    expect(next).toMatchObject({ ok: true, value: '2', version: 2 });
    expect(next.container).not.toBe(warm.container);
    expect(await held).toMatchObject({ ok: true, value: '1', version: 1, container: warm.container });
    await heartbeatUntil(() => !pool.snapshot().some((c) => c.name === warm.container));
    // Removed: its containers stop once idle.
    pool.unregister('versioned');
    await heartbeatUntil(() => !pool.snapshot().some((c) => c.fn === 'versioned'));
  });

  it("reports an error thrown outside the handler's promise as the function's own crash", async () => {
    const out = await invoke(pool, fnSpec('async-thrower'), { id: 'at.1', event: {}, attempt: 1 });
    expect(out.ok).toBe(false);
    expect(out.error?.kind).toBe('exit');
    expect(out.error?.message).toBe("async boom (the function's process exited with code 1)");
  });

  it('names a result JSON cannot encode Runtime.MarshalError, as the Python runtime does', async () => {
    const out = await invoke(pool, fnSpec('marshal'), { id: 'marshal.1', event: {}, attempt: 1 });
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ kind: 'handler', name: 'Runtime.MarshalError' });
    expect(out.error?.message).toMatch(/^Unable to marshal response: .*BigInt/);
  });

  it('logs what a handler writes to stdout and stderr directly, line by line, as its own', async () => {
    const spec = fnSpec('streams', { concurrency: 2 });
    const [a, b] = await Promise.all([
      invoke(pool, spec, { id: 'streams.1', event: { n: 1 }, attempt: 1 }),
      invoke(pool, spec, { id: 'streams.2', event: { n: 2 }, attempt: 1 }),
    ]);
    for (const [out, n] of [
      [a, 1],
      [b, 2],
    ] as const) {
      expect(out).toMatchObject({ ok: true, value: 'written' });
      expect(out.logs.map((l) => [l.level, l.msg])).toEqual([
        ['info', `direct out ${n}`],
        ['error', 'direct err'],
        ['info', 'é'],
        ['info', 'in two parts'],
        ['info', 'and a tailvia its own Console'],
        ['error', 'an error via its own Console'],
      ]);
    }
  });

  it('supports callback-style handlers', async () => {
    const out = await invoke(pool, fnSpec('callback'), { id: 'cb.1', event: { n: 7 }, attempt: 1 });
    expect(out).toMatchObject({ ok: true, value: { cb: 7 } });
  });

  it.each([
    ['thrower', 'handler', {}],
    ['exiter', 'exit', {}],
    ['looper', 'timeout', { timeoutMs: 2000 }],
    ['hog', 'oom', { memoryBytes: 64 * 1024 * 1024 }],
  ] as const)('%s fails with kind %s, and the next invocation works', async (name, kind, overrides) => {
    const spec = fnSpec(name, overrides);
    const out = await invoke(pool, spec, { id: `${name}.1`, event: {}, attempt: 1 });
    expect(out.ok).toBe(false);
    expect(out.error?.kind).toBe(kind);
    const echo = await invoke(pool, fnSpec('echo'), {
      id: `echo.after-${name}`,
      event: { n: 3 },
      attempt: 1,
    });
    expect(echo).toMatchObject({ ok: true, value: { n: 3 } });
  });
});
