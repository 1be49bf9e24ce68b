/**
 * Runs `faas up` as a child process on a manifest written for the benchmark (handlers copied from
 * bench/functions), with its own port, instance name and state dir; stops it by pid with SIGTERM
 * and removes whatever it left (containers by instance label, the temp dir).
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { track } from './children.mjs';
import { waitFor, within } from './clock.mjs';
import { removeContainersWith } from './docker.mjs';
import { call } from './http.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FUNCTIONS = join(ROOT, 'bench', 'functions');

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/**
 * The gauge reports ready containers as idle or busy, generic ones as warm, loading as starting;
 * the benchmark counts them as ready, generic and starting.
 * @type {Record<string, string>}
 */
const STATE_ALIAS = { idle: 'ready', busy: 'ready', warm: 'generic', loading: 'starting' };

/**
 * Parses one metric family of a Prometheus text exposition.
 * @param {string} text
 * @param {string} name
 * @returns {Array<{ labels: Record<string, string>, value: number }>}
 */
export function metricSamples(text, name) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const m = /^[^{ ]+(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

/**
 * @typedef {object} Platform
 * @property {string} url
 * @property {number} pid
 * @property {string} instance
 * @property {() => string} output everything the process printed
 * @property {() => Promise<number>} rssMb VmRSS of the platform process now
 * @property {() => Promise<string>} metrics the /metrics text
 * @property {(fn: string) => Promise<Record<string, number>>} containers a function's containers by
 *   state: starting, ready, draining, stopping ('' for generic ones: generic)
 * @property {() => Promise<{ code: number | null, leftovers: number }>} stop
 */

/**
 * Starts the platform and resolves once /healthz answers 200.
 * @param {{ instance: string, functions: Record<string, object>, prewarm: number, port?: number,
 *   env?: Record<string, string>, nodeArgs?: string[] }} o nodeArgs go to node before the script
 *   (`--cpu-prof` for example)
 * @returns {Promise<Platform>}
 */
export async function startPlatform(o) {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-'));
  await cp(FUNCTIONS, dir, { recursive: true });
  const manifest = join(dir, 'manifest.yaml');
  // No anchors for objects the functions share: the platform refuses a manifest with many aliases.
  await writeFile(
    manifest,
    stringify({ version: 1, functions: o.functions }, { aliasDuplicateObjects: false }),
  );
  const port = o.port ?? (await freePort());
  const argv = [...(o.nodeArgs ?? []), join(ROOT, 'bin', 'faas.js'), 'up', '--manifest', manifest];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      FAAS_PORT: String(port),
      FAAS_INSTANCE: o.instance,
      FAAS_STATE_DIR: join(dir, 'state'),
      FAAS_PREWARM: String(o.prewarm),
      FAAS_LOG_LEVEL: 'warn',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  /** How the process ended, once it has: named when a reading finds it gone. */
  let ended = '';
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `code ${code}`;
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const pid = /** @type {number} */ (child.pid);

  const stop = track(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await within(exited, 30_000, 'timeout');
    if (code === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    const leftovers = await removeContainersWith(`faas.instance=${o.instance}`);
    await rm(dir, { recursive: true, force: true });
    return { code: code === 'timeout' ? null : /** @type {number | null} */ (code), leftovers };
  });

  try {
    await waitFor(
      `the platform ${o.instance} to answer /healthz`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode}`);
        const r = await call('GET', `${url}/healthz`).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 50 },
    );
  } catch (err) {
    await stop();
    throw new Error(`${/** @type {Error} */ (err).message}\n${out}`);
  }

  const metrics = async () => (await call('GET', `${url}/metrics`)).body;
  return {
    url,
    pid,
    instance: o.instance,
    output: () => out,
    async rssMb() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch((err) => {
        throw ended ? new Error(`the platform ${o.instance} (pid ${pid}) exited (${ended})`) : err;
      });
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
    },
    metrics,
    async containers(fn) {
      const byState = /** @type {Record<string, number>} */ ({});
      for (const s of metricSamples(await metrics(), 'faas_containers')) {
        if (s.labels.function !== fn) continue;
        const state = STATE_ALIAS[s.labels.state] ?? s.labels.state;
        byState[state] = (byState[state] ?? 0) + s.value;
      }
      return byState;
    },
    stop,
  };
}

/**
 * Containers of a function that exist (any state but stopping/dead).
 * @param {Record<string, number>} byState
 */
export function liveCount(byState) {
  return ['starting', 'ready', 'draining', 'generic'].reduce((n, s) => n + (byState[s] ?? 0), 0);
}
