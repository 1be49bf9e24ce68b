/**
 * The throughput floor: the least an HTTP-fronted BullMQ queue can do per request. node:http
 * with no framework, one job per request, and a no-op worker in its own process (no container, no
 * record, no QueueEvents). Two ways to queue, by the function name in the path:
 * - `/functions/noop/invoke`: one `Queue.add` per request, as each request comes;
 * - `/functions/coalesced/invoke`: the requests of one turn of the event loop queued together,
 *   one `addBulk` a turn (fewer round trips to Redis, each request still answered on its own).
 *
 * Run by the benchmark as a child process; prints `listening <port>` when ready.
 * Env: BENCH_QUEUE (queue name), BENCH_PREFIX (BullMQ prefix), REDIS_URL.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { setImmediate } from 'node:timers';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = process.env.BENCH_QUEUE ?? 'bare';
const prefix = process.env.BENCH_PREFIX ?? 'bench';
const main = new Redis(url, { maxRetriesPerRequest: null });
const ingest = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
await new Promise((resolve) => ingest.once('ready', resolve));

const queue = new Queue(name, { connection: ingest, prefix });
const worker = new Worker(name, async () => ({ ok: true }), { connection: main, prefix, concurrency: 64 });
await worker.waitUntilReady();
const opts = { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };

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
  const m = /^\/functions\/(noop|coalesced)\/invoke(?:\?|$)/.exec(req.url ?? '');
  if (req.method !== 'POST' || !m) {
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
      name: 'invoke',
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
