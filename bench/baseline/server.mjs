/**
 * The warm-invoke baseline: the platform's sync invoke path (Hono on @hono/node-server, one
 * BullMQ job, the answer through QueueEvents) with the no-op handler called inside the worker's
 * own process instead of a container. Nothing else: no records, no pool, no containers.
 *
 * Run by the benchmark as a child process (like `faas up`); prints `listening <port>` when ready.
 * Env: BENCH_QUEUE (queue name), BENCH_PREFIX (BullMQ prefix), REDIS_URL.
 */
import { serve } from '@hono/node-server';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = process.env.BENCH_QUEUE ?? 'baseline';
const prefix = process.env.BENCH_PREFIX ?? 'bench';
// The same connections as the platform: a shared one for the worker, a fail-fast one for accepting.
const main = new Redis(url, { maxRetriesPerRequest: null });
const ingest = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
await new Promise((resolve) => ingest.once('ready', resolve));

const queue = new Queue(name, { connection: ingest, prefix });
const events = new QueueEvents(name, { connection: main.duplicate(), prefix });
const worker = new Worker(name, async () => ({ ok: true }), { connection: main, prefix, concurrency: 64 });
await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
const jobOptions = { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };

const app = new Hono();
app.post('/functions/:name/invoke', async (c) => {
  const text = await c.req.text();
  const event = text.trim() === '' ? {} : JSON.parse(text);
  const async = c.req.query('async') === '1';
  const id = `${name}.${randomUUID().replaceAll('-', '')}`;
  const data = { source: 'invoke', event, enqueuedAt: Date.now(), sync: !async };
  const job = await queue.add('invoke', data, { ...jobOptions, jobId: id });
  if (async) return c.json({ id }, 202);
  const value = await job.waitUntilFinished(events, 35_000);
  return new Response(JSON.stringify(value ?? null), {
    status: 200,
    headers: { 'X-Faas-Invocation-Id': id, 'Content-Type': 'application/json' },
  });
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  console.log(`listening ${info.port}`),
);
process.once('SIGTERM', async () => {
  server.close();
  await worker.close();
  await events.close();
  await queue.close();
  main.disconnect();
  ingest.disconnect();
  process.exit(0);
});
