/**
 * Platform processes by role (`faas up`, `faas api`, `faas worker`) on a manifest of the `keyed`
 * fixture, started as children with unique instance names, and what they publish in Redis.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketEventsEnv, clusterOf, freePort, runCli, writeManifestDir } from '../../helpers/platform.js';
import { heartbeatKey } from '../../../src/pool/reaper.js';
import { requireRedis } from '../../helpers/services.js';
import { sleep, until } from './wait.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/keyed', import.meta.url));

/**
 * Settings that let a platform notice a dead worker's jobs sooner. Ignored by a platform that
 * does not read them (then takeover waits for the built-in 30 s lock margin plus BullMQ's 30 s
 * stalled-check interval); see the suite's note on issue 6.
 */
export const FAST_TAKEOVER_ENV = { FAAS_LOCK_MARGIN: '3s', FAAS_STALLED_INTERVAL: '3s' };

/** A name for a function or bucket of this run only: queues and records persist in Redis. */
export function shortName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The manifest of one `keyed` function (see fixtures/keyed): `out/<key>` per input in `out`. */
export function keyedManifest(
  fn: string,
  o: { out: string; delayMs?: number; timeout?: string; retry?: string; scale?: string; trigger?: string },
): string {
  return `version: 1
functions:
  ${fn}:
    handler: keyed/index.handler
    timeout: ${o.timeout ?? '10s'}
    concurrency: 8
    scale: ${o.scale ?? '{ min: 0, max: 2, idleTimeout: 60s }'}
    retry: ${o.retry ?? '{ attempts: 3, backoff: 200ms, maxBackoff: 2s }'}
    env: { OUT_BUCKET: ${o.out}, DELAY_MS: "${o.delayMs ?? 0}" }
    storage: { write: [${o.out}] }
${o.trigger ? `    triggers:\n      - bucket: ${o.trigger}\n` : ''}`;
}

/** A temp folder with the manifest and the `keyed` handler beside it. */
export async function manifestDir(manifest: string): Promise<string> {
  const dir = await writeManifestDir(manifest, []);
  await cp(FIXTURE, join(dir, 'keyed'), { recursive: true });
  return dir;
}

export type Role = 'up' | 'api' | 'worker';

export interface FaasProcess {
  role: Role;
  instance: string;
  /** The API's base URL (undefined for `faas worker`). */
  url: string | undefined;
  pid: number;
  /** When the process answered its readiness check. */
  readyAt: number;
  exited: Promise<number | null>;
  alive(): boolean;
  output(): string;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM by pid; resolves with the exit code. */
  stop(): Promise<number | null>;
}

async function heartbeat(instance: string): Promise<string | null> {
  const redis = await requireRedis();
  try {
    return await redis.get(heartbeatKey(instance));
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts `faas <role>` as a child process on the manifest in `dir`, with a unique instance name,
 * and waits until it is ready: `/healthz` answers 200 (api, up) or its heartbeat is in Redis
 * (worker). With `bare`, it is started as a host joining a cluster is: in the folder `bare.cwd`
 * (empty), without `--manifest`, with only the settings in `env` (it serves what is deployed).
 */
export async function startFaas(
  role: Role,
  dir: string,
  env: Record<string, string> = {},
  bare?: { cwd: string },
): Promise<FaasProcess> {
  const instance = `f${Math.random().toString(36).slice(2, 10)}`;
  const port = role === 'worker' ? undefined : Number(env.FAAS_PORT ?? (await freePort()));
  const child = runCli(
    bare ? [role] : [role, '--manifest', join(dir, 'manifest.yaml')],
    {
      FAAS_STATE_DIR: join(dir, 'state'),
      FAAS_CLUSTER: clusterOf(dir),
      FAAS_PREWARM: '0',
      ...env,
      FAAS_INSTANCE: instance,
      ...(port ? { FAAS_PORT: String(port) } : {}),
    },
    bare?.cwd,
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = port ? `http://127.0.0.1:${port}` : undefined;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = url
      ? await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
          (r) => r.status === 200,
          () => false,
        )
      : (await heartbeat(instance).catch(() => null)) !== null;
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`faas ${role} did not become ready (exit ${child.exitCode}):\n${out.slice(-4000)}`);
    }
    await sleep(100);
  }
  return {
    role,
    instance,
    url,
    pid: child.pid as number,
    readyAt: Date.now(),
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => out,
    signal: (sig) => void child.kill(sig),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Stops whatever is still running: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopAll(procs: FaasProcess[], graceMs = 45_000): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (!p.alive()) return;
      p.signal('SIGTERM');
      const code = await Promise.race([p.exited, sleep(graceMs).then(() => 'late' as const)]);
      if (code === 'late') {
        p.signal('SIGKILL');
        await p.exited;
      }
    }),
  );
}

/** A container as a platform publishes it with its heartbeat. */
export interface PooledContainer {
  name: string;
  fn?: string;
  state: string;
  inFlight: number;
}

/** The pool a platform instance published with its latest heartbeat. */
export async function publishedPool(instance: string): Promise<PooledContainer[]> {
  const raw = await heartbeat(instance);
  return raw ? ((JSON.parse(raw) as { pool: PooledContainer[] | null }).pool ?? []) : [];
}

/** Invocations a platform instance holds in its containers right now. */
export async function inFlight(instance: string): Promise<number> {
  return (await publishedPool(instance)).reduce((n, c) => n + c.inFlight, 0);
}

/**
 * The environment of a platform that receives MinIO's bucket events (port 8080, MinIO's
 * token). Waits a while for the port when another test run holds it.
 */
export async function eventsEnv(): Promise<Record<string, string>> {
  await until(
    'port 8080 to be free (MinIO posts bucket events there)',
    () =>
      fetch('http://127.0.0.1:8080/healthz').then(
        () => false,
        () => true,
      ),
    90_000,
  );
  return bucketEventsEnv();
}
