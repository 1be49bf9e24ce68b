/**
 * Starts a reference server as a child process, and stops it by pid: the baseline server
 * (baseline/server.mjs) or the bare throughput floor (baseline/bare.mjs).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../lib/children.mjs';
import { within } from '../lib/clock.mjs';

const SERVERS = {
  hono: fileURLToPath(new URL('./server.mjs', import.meta.url)),
  bare: fileURLToPath(new URL('./bare.mjs', import.meta.url)),
};

/**
 * @param {{ queue: string, prefix: string, server?: 'hono' | 'bare', image?: string, label?: string }} o
 *   `image` (the runtime image) and `label` give the bare server its container floor route
 * @returns {Promise<{ url: string, pid: number, stop: () => Promise<void> }>}
 */
export async function startBaseline(o) {
  const child = spawn(process.execPath, [SERVERS[o.server ?? 'hono']], {
    env: {
      ...process.env,
      BENCH_QUEUE: o.queue,
      BENCH_PREFIX: o.prefix,
      ...(o.image && { BENCH_IMAGE: o.image, BENCH_LABEL: o.label ?? 'faas.bench=bare' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  /** @type {Promise<number | undefined>} */
  const listening = new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => resolve(undefined));
  });
  const port = await within(listening, 60_000, undefined);
  const stop = track(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if ((await within(exited, 10_000, 'late')) === 'late') child.kill('SIGKILL');
  });
  if (port === undefined) {
    await stop();
    throw new Error(`the ${o.server ?? 'hono'} reference server did not start:\n${out}`);
  }
  return { url: `http://127.0.0.1:${port}`, pid: /** @type {number} */ (child.pid), stop };
}
