/**
 * Hostile functions against a running platform (`faas up` as its own process): each attack is
 * one function (test/fixtures/functions/hostile, switched by `event.attack`) called through
 * `POST /functions/:name/invoke`. Each must fail, or report that every attempt failed, with a
 * clear error kind; meanwhile a well-behaved function is called in a loop for the whole suite and
 * must keep succeeding; the platform's memory stays bounded; nothing is left on the engine.
 */
import type Docker from 'dockerode';
import { readdir, stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

const MiB = 1024 * 1024;
/** Most log bytes the platform keeps per invocation (MAX_LOG_BYTES in src/worker/invoke.ts). */
const LOG_CAP = 256 * 1024;
/** The platform's peak memory (VmHWM) must stay under this through every attack. */
const RSS_LIMIT_MB = 300;
const ENV_CANARY = `attack-env-canary-${Math.random().toString(36).slice(2)}`;

/** Each attack's function: its manifest settings beyond `handler` and `retry`. */
const ATTACKS: Record<string, string> = {
  'fork-bomb': 'memory: 1Gi\n    timeout: 60s',
  'memory-bomb': 'memory: 64Mi',
  'tmp-fill': 'memory: 256Mi',
  'rootfs-write': '',
  'console-flood': 'timeout: 120s',
  'stdout-flood': 'timeout: 120s',
  'infinite-loop': 'timeout: 2s\n    cpu: 0.5',
  zombies: '',
  snoop: '',
  network: '',
  privilege: '',
  'big-result': 'memory: 512Mi',
};

function manifest(): string {
  const fns = Object.entries(ATTACKS).map(
    ([name, extra]) =>
      `  ${name}:\n    handler: hostile/index.handler\n    retry: { attempts: 1 }\n${extra ? `    ${extra}\n` : ''}`,
  );
  return `version: 1
functions:
  echo:
    handler: echo/index.handler
    retry: { attempts: 1 }
${fns.join('')}`;
}

interface Reply {
  status: number;
  /** The result on success, `{ id, error }` on failure. */
  body: Record<string, unknown>;
  id: string;
  error?: { kind: string; message: string };
}

interface InvocationView {
  status: string;
  error: { kind: string; message: string } | null;
  logs: Array<{ level: string; msg: string }>;
}

interface EchoCall {
  ok: boolean;
  ms: number;
  detail?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** This host's own non-loopback addresses (the function tries them from its empty namespace). */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => (a as { address: string }).address)
    .slice(0, 4);
}

describe('hostile functions', () => {
  let docker: Docker;
  let platform: RunningPlatform;
  let stopped = false;
  const echo: EchoCall[] = [];
  let echoRunning = true;
  let echoLoop: Promise<void> | undefined;

  async function call(fn: string, event: Record<string, unknown> = {}): Promise<Reply> {
    const res = await fetch(`${platform.url}/functions/${fn}/invoke`, {
      method: 'POST',
      body: JSON.stringify({ attack: fn, ...event }),
    });
    const text = await res.text();
    const body = (text ? JSON.parse(text) : null) as Record<string, unknown>;
    const error = res.status === 200 ? undefined : (body?.error as Reply['error']);
    return { status: res.status, body, id: res.headers.get('x-faas-invocation-id') ?? '', error };
  }

  async function record(id: string): Promise<InvocationView> {
    return (await (await fetch(`${platform.url}/invocations/${id}`)).json()) as InvocationView;
  }

  async function containers(fn?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`faas.instance=${platform.instance}`, ...(fn ? [`faas.function=${fn}`] : [])];
    return docker.listContainers({ all: true, filters: { label } });
  }

  /** The well-behaved function, called one after another until the suite ends. */
  async function callEchoForever(): Promise<void> {
    for (let n = 0; echoRunning; n++) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${platform.url}/functions/echo/invoke`, {
          method: 'POST',
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(60_000),
        });
        const body = (await res.json()) as { echo?: { n?: number } };
        const ok = res.status === 200 && body.echo?.n === n;
        echo.push({ ok, ms: performance.now() - t0, detail: ok ? undefined : JSON.stringify(body) });
      } catch (err) {
        echo.push({ ok: false, ms: performance.now() - t0, detail: String(err) });
      }
      await sleep(50);
    }
  }

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    (await requireMinio()).destroy();
    docker = await requireDocker();
    platform = await startPlatformProcess(manifest(), ['hostile', 'echo'], {
      SECURITY_TEST_CANARY: ENV_CANARY,
    });
    echoLoop = callEchoForever();
  }, 120_000);

  afterAll(async () => {
    echoRunning = false;
    await echoLoop;
    if (!stopped) await platform?.stop();
  }, 120_000);

  it('fork bomb: the pids limit stops it (EAGAIN), the function survives', async () => {
    const r = await call('fork-bomb');
    console.log('fork-bomb:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as { spawned: number; error: string; pidsMax: string };
    expect(out.error).toBe('EAGAIN');
    expect(out.spawned).toBeGreaterThan(0);
    expect(out.spawned).toBeLessThan(128);
  }, 90_000);

  it("memory bomb: killed at the function's memory limit (kind oom)", async () => {
    const r = await call('memory-bomb');
    expect(r.status).toBe(502);
    expect(r.error?.kind).toBe('oom');
    expect(r.error?.message).toMatch(/exceeded its 64 MiB memory limit/);
  });

  it('filling /tmp stops at its size (ENOSPC)', async () => {
    const r = await call('tmp-fill');
    console.log('tmp-fill:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as { written: number; error: string; mount: string };
    expect(out.error).toBe('ENOSPC');
    const size = Number(/size=(\d+)k/.exec(out.mount)?.[1]) * 1024;
    expect(size).toBeGreaterThan(0);
    expect(out.written).toBeLessThanOrEqual(size);
    expect(out.mount).toMatch(/\bnoexec\b/);
  });

  it('writing the root file system, the socket mount, /proc/sys or cgroups fails (EROFS)', async () => {
    const r = await call('rootfs-write');
    console.log('rootfs-write:', JSON.stringify(r.body));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      '/evil': 'EROFS',
      // Owned by root as well: which of the two refusals the kernel reports first may differ.
      '/etc/passwd': expect.stringMatching(/^(EROFS|EACCES)$/),
      '/opt/faas/runtime.mjs': 'EROFS',
      '/usr/bin/node (unlink)': 'EROFS',
      '/var/task/index.mjs': 'EROFS',
      '/mkdir': 'EROFS',
      '/run/faas/evil': 'EROFS',
      '/run/faas/host.sock (rename)': 'EROFS',
      '/proc/sys/kernel/core_pattern': 'EROFS',
      'cgroup pids.max': 'EROFS',
      'cgroup memory limit': 'EROFS',
    });
  });

  it('a 1 GB console.log flood is cut at the cap with a marker; the function and platform carry on', async () => {
    const r = await call('console-flood', { bytes: 1024 ** 3 });
    const rec = await record(r.id);
    const bytes = rec.logs.reduce((n, l) => n + Buffer.byteLength(l.msg), 0);
    const last = rec.logs.at(-1)?.msg ?? '';
    console.log(
      `console-flood: HTTP ${r.status} ${rec.status} ${rec.error?.kind ?? ''}; ${rec.logs.length} log lines, ${bytes} bytes, last: ${last.slice(0, 60)}`,
    );
    // Logging past the cap must cost nothing: dropped (with one marker), never queued until the
    // container runs out of memory. Whether a queued flood reaches the host in time for the
    // marker is a race; its completing is not.
    expect(rec.error, 'the flood ran to its end').toBeNull();
    expect(rec.status).toBe('succeeded');
    expect(r.body).toEqual({ sent: 1024 ** 3 });
    expect(last).toMatch(/^\[logs truncated at \d+ bytes\]$/);
    expect(bytes).toBeLessThanOrEqual(LOG_CAP + 100);
    expect(await platform.peakRssMb()).toBeLessThan(RSS_LIMIT_MB);
  }, 150_000);

  it("a stdout flood past the runtime's capture stays within Docker's log cap", async () => {
    const r = await call('stdout-flood', { bytes: 256 * MiB });
    console.log('stdout-flood:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ sent: 256 * MiB });
    const [c] = await containers('stdout-flood');
    expect(c, 'the flooding container is still there').toBeDefined();
    const info = await docker.getContainer((c as Docker.ContainerInfo).Id).inspect();
    const cap = Number(info.HostConfig.LogConfig?.Config?.['max-size']);
    expect(cap).toBeGreaterThan(0);
    const dir = dirname(info.LogPath);
    const files = (await readdir(dir)).filter((f) => f.startsWith(basename(info.LogPath)));
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
    console.log(`stdout-flood: log files ${files.join(', ')}: ${sizes.join(', ')} bytes (cap ${cap})`);
    // json-file may overshoot by one entry, and keeps the rotated file beside the current one.
    for (const size of sizes) expect(size).toBeLessThanOrEqual(cap + 64 * 1024);
    expect(files.length).toBeLessThanOrEqual(2);
    expect(await platform.peakRssMb()).toBeLessThan(RSS_LIMIT_MB);
  }, 150_000);

  it('an infinite loop is stopped at the timeout (kind timeout)', async () => {
    const r = await call('infinite-loop');
    expect(r.status).toBe(504);
    expect(r.error?.kind).toBe('timeout');
    expect(r.error?.message).toMatch(/timed out after 2000 ms/);
  });

  it("orphaned children are reaped by the container's init: no zombies remain", async () => {
    const r = await call('zombies', { count: 8 });
    console.log('zombies:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as { orphans: number; zombies: number; init: string[] };
    // The grandchildren really were orphans (re-parented to pid 1) ...
    expect(out.orphans).toBe(8);
    // ... and pid 1 is an init that reaped them.
    expect(out.init[0]).toMatch(/docker-init|tini/);
    expect(out.zombies).toBe(0);
  });

  it("another function's code is nowhere to be read", async () => {
    const other = 'echo-fixture-canary-9c2a41d7';
    const own = 'hostile-fixture-canary-5b3f08e1';
    // The other function runs right now, in a container of its own.
    expect((await containers('echo')).filter((c) => c.State === 'running').length).toBeGreaterThan(0);
    const r = await call('snoop', {
      needles: [other, own].map((s) => Buffer.from(s).toString('base64')),
    });
    console.log('snoop:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as { found: Record<string, string[]>; files: number };
    // The search works: it finds this function's own code, where the runtime wrote it ...
    expect(out.found[own]).toContain('/var/task/hostile/index.mjs');
    expect(out.files).toBeGreaterThan(5);
    // ... and finds the other function's nowhere.
    expect(out.found[other]).toEqual([]);
  });

  // Forged messages on the runtime socket (a second hello, a stream for another invocation) end
  // the container now: protocol-fuzz.test.ts covers them.
  it("cannot reach the host's services, Docker's socket or DNS", async () => {
    const port = Number(new URL(platform.url).port);
    const r = await call('network', { ports: [port], hostAddresses: hostAddresses() });
    console.log('network:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as {
      tcp: Record<string, string>;
      sockets: Record<string, string>;
      dns: string;
      interfaces: string[];
    };
    expect(Object.keys(out.tcp).length).toBeGreaterThanOrEqual(10);
    for (const [target, outcome] of Object.entries(out.tcp)) {
      expect(outcome, target).toMatch(/^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL)$/);
    }
    expect(out.sockets).toEqual({
      '/var/run/docker.sock': 'ENOENT',
      '/run/docker.sock': 'ENOENT',
      '/run/containerd/containerd.sock': 'ENOENT',
    });
    expect(out.dns).toMatch(/^(EAI_AGAIN|ENOTFOUND|ECONNREFUSED)$/);
    expect(out.interfaces).toEqual(['lo']);
  });

  it('cannot gain privileges, see the host, exec from /tmp or read the platform’s environment', async () => {
    const r = await call('privilege', { platformPid: platform.pid, canary: ENV_CANARY });
    console.log('privilege:', JSON.stringify(r.body));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as Record<string, unknown> & {
      status: Record<string, string>;
      fds: { opened: number; error: string };
      envNames: string[];
    };
    expect(out).toMatchObject({
      setuid: 'EPERM',
      setgid: 'EPERM',
      seteuid: 'EPERM',
      setgroups: 'EPERM',
      execTmp: 'EACCES',
      killPlatform: 'ESRCH',
      canaryInEnv: false,
      openDevices: {
        '/dev/mem': 'ENOENT',
        '/dev/kmsg': 'ENOENT',
        '/dev/sda': 'ENOENT',
        '/dev/vda': 'ENOENT',
        '/dev/fuse': 'ENOENT',
      },
    });
    const zero = '0000000000000000';
    expect(out.status).toMatchObject({
      CapInh: zero,
      CapPrm: zero,
      CapEff: zero,
      CapBnd: zero,
      CapAmb: zero,
      NoNewPrivs: '1',
      Seccomp: '2',
    });
    expect(out.status.Uid).toMatch(/^10001\s+10001\s+10001\s+10001$/);
    expect(out.dlopenTmp).toMatch(/failed to map segment|operation not permitted/i);
    expect((out.pid1 as string[])[0]).toMatch(/docker-init|tini/);
    expect(out.fds.error).toBe('EMFILE');
    expect(out.fds.opened).toBeLessThan(4096);
    expect(out.envNames.filter((n) => /^(S3_|REDIS|FAAS_|SECURITY_TEST)/.test(n))).toEqual([]);
  });

  it('a 100 MB result is refused in the container (kind result-too-large)', async () => {
    const r = await call('big-result', { mb: 100 });
    expect(r.status).toBe(502);
    expect(r.error?.kind).toBe('result-too-large');
    expect(r.error?.message).toMatch(/result is 104857602 bytes; the limit is \d+/);
    expect(await platform.peakRssMb()).toBeLessThan(RSS_LIMIT_MB);
  }, 90_000);

  it('kept serving the well-behaved function throughout, stayed small, and leaves nothing behind', async () => {
    echoRunning = false;
    await echoLoop;
    const ms = echo.map((c) => c.ms).sort((a, b) => a - b);
    const failed = echo.filter((c) => !c.ok);
    const peak = await platform.peakRssMb();
    console.log(
      `echo during the attacks: ${echo.length} calls, ${failed.length} failed; latency p50 ${percentile(ms, 50).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms, max ${(ms.at(-1) ?? NaN).toFixed(0)} ms; platform peak RSS ${peak.toFixed(1)} MB`,
    );
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(echo.length).toBeGreaterThan(20);
    expect(peak).toBeLessThan(RSS_LIMIT_MB);
    stopped = true;
    expect(await platform.stop()).toBe(0);
    expect(await containers()).toEqual([]);
  }, 120_000);
});

/**
 * The main attacks again, from Python (test/fixtures/functions/py-hostile): the same profile
 * holds whatever the language, and /var/task, where a Python function's code and native
 * dependencies live without noexec, cannot be written.
 */
describe('hostile Python functions', () => {
  let platform: RunningPlatform;
  const PY: Record<string, string> = {
    'py-fork-bomb': 'memory: 1Gi\n    timeout: 60s',
    'py-memory-bomb': 'memory: 64Mi',
    'py-tmp-fill': 'memory: 256Mi',
    'py-rootfs-write': '',
    'py-infinite-loop': 'timeout: 2s\n    cpu: 0.5',
    'py-snoop': 'timeout: 60s',
    'py-network': 'timeout: 60s',
    'py-privilege': '',
  };

  async function call(fn: string, event: Record<string, unknown> = {}): Promise<Reply> {
    const res = await fetch(`${platform.url}/functions/${fn}/invoke`, {
      method: 'POST',
      body: JSON.stringify({ attack: fn, ...event }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const error = res.status === 200 ? undefined : (body?.error as Reply['error']);
    return { status: res.status, body, id: res.headers.get('x-faas-invocation-id') ?? '', error };
  }

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    (await requireMinio()).destroy();
    await requireDocker();
    const fns = Object.entries(PY).map(
      ([name, extra]) =>
        `  ${name}:\n    handler: py-hostile/app.handler\n    runtime: python3.11\n    retry: { attempts: 1 }\n${extra ? `    ${extra}\n` : ''}`,
    );
    platform = await startPlatformProcess(
      `version: 1\nfunctions:\n  py-echo:\n    handler: py-echo/app.handler\n    runtime: python3.11\n${fns.join('')}`,
      ['py-hostile', 'py-echo'],
      { SECURITY_TEST_CANARY: ENV_CANARY },
    );
  }, 180_000);

  afterAll(async () => {
    expect(await platform?.stop()).toBe(0);
  }, 120_000);

  it('fork bomb: the pids limit stops it (EAGAIN)', async () => {
    const r = await call('py-fork-bomb');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ error: 'EAGAIN' });
    expect(r.body.spawned).toBeLessThan(128);
  }, 90_000);

  it("memory bomb: killed at the function's memory limit (kind oom)", async () => {
    const r = await call('py-memory-bomb');
    expect(r.status).toBe(502);
    expect(r.error?.kind).toBe('oom');
  });

  it('filling /tmp stops at its size (ENOSPC); /tmp is noexec', async () => {
    const r = await call('py-tmp-fill');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ error: 'ENOSPC', mount: expect.stringMatching(/\bnoexec\b/) });
  });

  it('writing the root, /var/task, the socket mount or /proc/sys fails (EROFS)', async () => {
    const r = await call('py-rootfs-write');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({
      '/evil': 'EROFS',
      '/etc/passwd': expect.stringMatching(/^(EROFS|EACCES)$/),
      '/opt/faas/bootstrap.py': 'EROFS',
      '/usr/local/bin/python3.11 (unlink)': 'EROFS',
      '/var/task/app.py': 'EROFS',
      '/var/task/new.py': 'EROFS',
      '/run/faas/evil': 'EROFS',
      '/proc/sys/kernel/core_pattern': 'EROFS',
    });
  });

  it('an infinite loop is stopped at the timeout (kind timeout)', async () => {
    const r = await call('py-infinite-loop');
    expect(r.status).toBe(504);
    expect(r.error?.kind).toBe('timeout');
  });

  it("another function's code is nowhere to be read", async () => {
    await call('py-echo');
    const other = 'def handler(event, context):\n    return {"echo"';
    const own = 'hostile-fixture-canary-py-71c4e2';
    const r = await call('py-snoop', { needles: [other, own] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as { found: Record<string, string[]>; files: number };
    expect(out.found[own]).toContain('/var/task/app.py');
    expect(out.found[other]).toEqual([]);
  }, 90_000);

  it("cannot reach the host's services, Docker's socket or DNS", async () => {
    const port = Number(new URL(platform.url).port);
    const r = await call('py-network', { ports: [port], hostAddresses: hostAddresses() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as {
      tcp: Record<string, string>;
      sockets: Record<string, string>;
      dns: string;
      interfaces: string[];
    };
    for (const [target, outcome] of Object.entries(out.tcp)) {
      expect(outcome, target).toMatch(/^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL)$/);
    }
    expect(out.sockets).toEqual({
      '/var/run/docker.sock': 'ENOENT',
      '/run/docker.sock': 'ENOENT',
      '/run/containerd/containerd.sock': 'ENOENT',
    });
    expect(out.dns).toMatch(/^(EAI_AGAIN|ENOTFOUND)$/);
    expect(out.interfaces).toEqual(['lo']);
  }, 90_000);

  it('cannot gain privileges, exec or load code from /tmp, or read the platform’s environment', async () => {
    const r = await call('py-privilege', { platformPid: platform.pid, canary: ENV_CANARY });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const out = r.body as Record<string, unknown> & { status: Record<string, string>; envNames: string[] };
    expect(out).toMatchObject({
      setuid: 'EPERM',
      setgid: 'EPERM',
      setgroups: 'EPERM',
      execTmp: 'EACCES',
      killPlatform: 'ESRCH',
      canaryInEnv: false,
    });
    const zero = '0000000000000000';
    expect(out.status).toMatchObject({
      CapInh: zero,
      CapPrm: zero,
      CapEff: zero,
      CapBnd: zero,
      CapAmb: zero,
      NoNewPrivs: '1',
      Seccomp: '2',
    });
    expect(out.status.Uid).toMatch(/^10001\s+10001\s+10001\s+10001$/);
    expect(out.dlopenTmp).toMatch(/failed to map segment|operation not permitted/i);
    expect((out.pid1 as string[])[0]).toMatch(/docker-init|tini/);
    expect(out.envNames.filter((n) => /^(S3_|REDIS|FAAS_|SECURITY_TEST)/.test(n))).toEqual([]);
  });
});
