/**
 * Runs `faas up` as a real child process on a manifest written for one test, with its own port,
 * instance name and state dir, and stops it (by its pid) afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'functions');

export interface RunningPlatform {
  url: string;
  pid: number;
  dir: string;
  instance: string;
  output(): string;
  /** Peak resident memory of the platform process so far (VmHWM), in MiB. */
  peakRssMb(): Promise<number>;
  /** SIGTERM by pid, wait for the exit; the manifest folder is removed unless `keepDir`. */
  stop(o?: { keepDir?: boolean }): Promise<number | null>;
}

/** The cluster name of the platforms started on the manifest in `dir`. */
export function clusterOf(dir: string): string {
  return `t-${basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')}`.slice(0, 40);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/** Copies fixture handlers (by name) into a temp dir beside the manifest text. */
export async function writeManifestDir(manifest: string, fixtures: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faas-manifest-'));
  for (const f of fixtures) await cp(join(FIXTURES, f), join(dir, f), { recursive: true });
  await writeFile(join(dir, 'manifest.yaml'), manifest);
  return dir;
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'faas.js'), ...args], {
    cwd,
    env: { ...process.env, FAAS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Environment for a platform that receives MinIO's bucket events: MinIO's webhook target (set
 * up by services:up) posts to 127.0.0.1:8080 with the token in the services' state dir.
 */
export async function bucketEventsEnv(): Promise<Record<string, string>> {
  const { config } = await import('./services.js');
  const file = join(config.stateDir, 'minio-events.token');
  const token = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no MinIO event token at ${file}: start the services with \`npm run services:up\``);
  });
  const busy = await fetch('http://127.0.0.1:8080/healthz').then(
    () => true,
    () => false,
  );
  if (busy)
    throw new Error('port 8080 is taken: stop the running platform (MinIO posts bucket events there)');
  return { FAAS_PORT: '8080', FAAS_MINIO_EVENTS_TOKEN: token.trim() };
}

export async function startPlatformProcess(
  manifest: string,
  fixtures: string[],
  env: Record<string, string> = {},
  existingDir?: string,
  /** `up` (every role), or `api` / `worker` for one role. */
  command: 'up' | 'api' | 'worker' = 'up',
  /** More arguments after the manifest's (`--watch`, `--no-manifest`). */
  args: string[] = [],
): Promise<RunningPlatform> {
  const dir = existingDir ?? (await writeManifestDir(manifest, fixtures));
  const port = env.FAAS_PORT ? Number(env.FAAS_PORT) : await freePort();
  const instance = `t${Math.random().toString(36).slice(2, 10)}`;
  const child = runCli([command, '--manifest', join(dir, 'manifest.yaml'), ...args], {
    FAAS_PORT: String(port),
    FAAS_INSTANCE: instance,
    // Deployed functions are shared per cluster: one per manifest folder keeps tests apart.
    FAAS_CLUSTER: clusterOf(dir),
    FAAS_STATE_DIR: join(dir, 'state'),
    FAAS_PREWARM: '0',
    ...env,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`platform did not come up (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid as number,
    dir,
    instance,
    output: () => out,
    async peakRssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
      return kb / 1024;
    },
    async stop(o) {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (!o?.keepDir) await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const ROOT_DIR = dirname(FIXTURES);
