/**
 * The throughput floor: the least an HTTP-fronted BullMQ queue can do per request. node:http
 * with no framework, one job per request, and a no-op worker in its own process (no record, no
 * QueueEvents). Three routes, by the function name in the path:
 * - `/functions/noop/invoke`: one `Queue.add` per request, as each request comes;
 * - `/functions/coalesced/invoke`: the requests of one turn of the event loop queued together,
 *   one `addBulk` a turn (fewer round trips to Redis, each request still answered on its own);
 * - `/functions/container/invoke` (with BENCH_IMAGE): one add per request, and each job sent to a
 *   container and finished on its answer. The container floor: the least any platform that runs
 *   every invocation in a container can do. One container, started here with the platform's
 *   profile (no network, read-only, no capabilities, non-root), running echo-runtime.mjs on the
 *   runtime image's Node.js; one unix socket, its writes of a turn sent together.
 *
 * Run by the benchmark as a child process; prints `listening <port>` when ready.
 * Env: BENCH_QUEUE (queue name), BENCH_PREFIX (BullMQ prefix), REDIS_URL; BENCH_IMAGE (the
 * runtime image) and BENCH_LABEL (`key=value`, marks the container) for the container route.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createSocketServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate } from 'node:timers';
import { fileURLToPath } from 'node:url';

/** @type {Array<() => void>} */
const cleanups = [];
process.on('exit', () => {
  for (const c of cleanups) {
    try {
      c();
    } catch {
      // Leftover containers are removed by label when the benchmark ends.
    }
  }
});
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = process.env.BENCH_QUEUE ?? 'bare';
const prefix = process.env.BENCH_PREFIX ?? 'bench';
const main = new Redis(url, { maxRetriesPerRequest: null });
const ingest = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
await new Promise((resolve) => ingest.once('ready', resolve));

const queue = new Queue(name, { connection: ingest, prefix });
const container = process.env.BENCH_IMAGE ? await startContainer(process.env.BENCH_IMAGE) : undefined;
const worker = new Worker(
  name,
  async (job) =>
    job.name === 'container' && container ? container.run(/** @type {string} */ (job.id)) : { ok: true },
  { connection: main, prefix, concurrency: 64 },
);
await worker.waitUntilReady();
const opts = { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };

/**
 * Starts the floor's container and waits for it to connect; `run(id)` sends it one invocation and
 * resolves with its answer.
 * @param {string} image
 */
async function startContainer(image) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'runtime.sock');
  /** @type {Map<string, (v: unknown) => void>} */
  const waiting = new Map();
  /** @type {import('node:net').Socket | undefined} */
  let peer;
  const server = createSocketServer((s) => {
    if (peer) return void s.destroy();
    peer = s;
    s.setNoDelay(true);
    let rest = '';
    s.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const { id } = JSON.parse(line);
        waiting.get(id)?.({ ok: true });
        waiting.delete(id);
      }
    });
  });
  const connected = new Promise((resolve) => server.once('connection', resolve));
  await new Promise((resolve) => server.listen(socketPath, () => resolve(undefined)));
  chmodSync(socketPath, 0o666);
  const script = fileURLToPath(new URL('./echo-runtime.mjs', import.meta.url));
  const label = process.env.BENCH_LABEL ?? 'faas.bench=bare';
  const id = execFileSync('docker', [
    'run',
    '-d',
    '--rm',
    '--label',
    label,
    '--network',
    'none',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--init',
    '--memory',
    '256m',
    '--pids-limit',
    '64',
    '-v',
    `${dir}:/run/faas:ro`,
    '-v',
    `${script}:/opt/bench/echo.mjs:ro`,
    image,
    '/usr/bin/node',
    '/opt/bench/echo.mjs',
    '/run/faas/runtime.sock',
  ])
    .toString()
    .trim();
  cleanups.push(() => {
    execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const timer = setTimeout(() => {
    console.error('the container floor did not connect within 30 s');
    process.exit(1);
  }, 30_000);
  await connected;
  clearTimeout(timer);
  const socket = /** @type {import('node:net').Socket} */ (peer);
  let held = false;
  return {
    /** @param {string} jobId */
    run(jobId) {
      return new Promise((resolve) => {
        waiting.set(jobId, resolve);
        // The jobs a turn starts leave in one write, as the platform's channel sends them.
        if (!held) {
          held = true;
          socket.cork();
          setImmediate(() => {
            held = false;
            socket.uncork();
          });
        }
        socket.write(JSON.stringify({ t: 'invoke', id: jobId, event: {} }) + '\n');
      });
    },
  };
}

/** @typedef {{ name: string, data: object, opts: object }} Add */
/** @type {Array<{ job: Add, resolve: (v: unknown) => void, reject: (e: unknown) => void }>} */
let turn = [];
/** @param {Add} job */
function addInTurn(job) {
  return new Promise((resolve, reject) => {
    if (turn.length === 0)
      setImmediate(() => {
        const batch = turn;
        turn = [];
        queue.addBulk(batch.map((b) => b.job)).then(
          (jobs) => batch.forEach((b, i) => b.resolve(jobs[i])),
          (err) => batch.forEach((b) => b.reject(err)),
        );
      });
    turn.push({ job, resolve, reject });
  });
}

const server = createServer((req, res) => {
  const m = /^\/functions\/(noop|coalesced|container)\/invoke(?:\?|$)/.exec(req.url ?? '');
  if (req.method !== 'POST' || !m || (m[1] === 'container' && !container)) {
    res.writeHead(404).end();
    return;
  }
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    const id = `${name}.${randomUUID().replaceAll('-', '')}`;
    const job = {
      name: m[1] === 'container' ? 'container' : 'invoke',
      data: {
        source: 'invoke',
        event: text.trim() === '' ? {} : JSON.parse(text),
        enqueuedAt: Date.now(),
        sync: false,
      },
      opts: { ...opts, jobId: id },
    };
    const added = m[1] === 'coalesced' ? addInTurn(job) : queue.add(job.name, job.data, job.opts);
    added.then(
      () => {
        const body = JSON.stringify({ id });
        res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      (/** @type {Error} */ err) => res.writeHead(503).end(err.message),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening ${port}`);
});
process.once('SIGTERM', async () => {
  server.close();
  await worker.close();
  await queue.close();
  main.disconnect();
  ingest.disconnect();
  process.exit(0);
});
