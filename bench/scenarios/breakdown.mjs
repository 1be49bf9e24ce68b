/**
 * Where the time of a warm sync invoke goes. Redis MONITOR timestamps (microseconds, the host
 * clock) mark each step the platform takes in Redis; the client's clock marks send and receive;
 * the handler returns its own start time. Same clock everywhere, so the stages line up:
 *
 *   send ─▶ job added ─▶ job active ─▶ handler starts ─▶ record SET (announced, with the record) ─▶ answer
 *
 * The job's completion follows the record off the answer's path; a record too large to travel
 * with its announcement is read back (GET) before the answer, as every record was before.
 *
 * MONITOR slows Redis a little; the stage sizes are what to read here, the warm scenario has the
 * unobserved totals.
 */
import { writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { now, sleep } from '../lib/clock.mjs';
import { call, invoke } from '../lib/http.mjs';
import { mean, median, round } from '../lib/stats.mjs';

/** Stage names, in order, with what each covers. */
export const PLATFORM_STAGES = {
  http_to_enqueue: 'client send, HTTP parse, route, body/JSON, producer → BullMQ add script in Redis',
  enqueue_to_pickup: 'add script → worker wakes on the marker (BZPOPMIN) → moveToActive script',
  pickup_to_handler: 'job fetch, payload parse, pool lease, invoke over the unix socket, runtime dispatch',
  handler_to_record: 'handler returns, result back over the socket, outcome, record SET sent',
  record_to_response:
    'record SET script publishes it → waiter wakes → response built, HTTP answer read by the client',
  record_to_complete: 'record SET round trip, log line, BullMQ moveToFinished script (off the answer path)',
  complete_to_notify: 'large records only: completion → waiter GETs the record',
  notify_to_response: 'large records only: record GET round trip, response, answer',
};

export const BASELINE_STAGES = {
  http_to_enqueue: PLATFORM_STAGES.http_to_enqueue,
  enqueue_to_pickup: PLATFORM_STAGES.enqueue_to_pickup,
  pickup_to_complete: 'job fetch, handler call in process, moveToFinished script',
  complete_to_response: "'completed' stream entry → QueueEvents wakes → HTTP answer read by the client",
};

/**
 * @typedef {{ t: number, args: string[], children: string[][] }} Command
 */

/**
 * Runs `n` sync invokes one at a time under MONITOR and splits each into stages.
 * @param {{ redisUrl: string, base: string, fn: string, queueKey: string, n: number,
 *   platform: boolean }} o queueKey is the queue's Redis prefix, e.g. `faas:fn.trace`
 */
export async function traceWarmPath(o) {
  const redis = new Redis(o.redisUrl);
  redis.on('error', () => undefined);
  /** @type {Command[]} */
  const commands = [];
  /** @type {Command | undefined} */
  let current;
  const monitor = await redis.monitor();
  // Lines that reach it with MONITOR's own answer, before ioredis counts it as monitoring, are
  // taken for replies and raised as a "command queue state" error: nothing of the trace (which
  // starts 100 ms later) is lost by them.
  monitor.on('error', () => undefined);
  // Script calls are atomic: the `lua` lines MONITOR shows after an EVALSHA are that script's.
  monitor.on(
    'monitor',
    (/** @type {string} */ time, /** @type {string[]} */ args, /** @type {string} */ source) => {
      if (source === 'lua') return void current?.children.push(args);
      const relevant = args.some((a) => a.startsWith(o.queueKey) || a.startsWith(`faas:inv:${o.fn}.`));
      current = relevant ? { t: Number(time) * 1000, args, children: [] } : undefined;
      if (current) commands.push(current);
    },
  );
  await sleep(100);
  const calls = [];
  for (let i = 0; i < o.n; i++) {
    const t0 = now();
    const r = await invoke(o.base, o.fn);
    const t1 = now();
    if (r.status !== 200) throw new Error(`invoke ${o.fn} answered ${r.status}: ${r.body}`);
    calls.push({ id: String(r.headers['x-faas-invocation-id']), t0, t1, body: JSON.parse(r.body) });
    await sleep(5);
  }
  await sleep(100);
  monitor.disconnect();
  redis.disconnect();

  /** @type {Record<string, number[]>} */
  const stages = {};
  const add = (/** @type {string} */ k, /** @type {number} */ v) => (stages[k] ??= []).push(v);
  /** @type {number[]} */
  const totals = [];
  let skipped = 0;
  for (const c of calls) {
    const inWindow = commands.filter((x) => x.t >= c.t0 - 1 && x.t <= c.t1 + 1);
    const event = (/** @type {string} */ name) =>
      inWindow.find((x) =>
        x.children.some((a) => a[0].toUpperCase() === 'XADD' && a.includes(name) && a.includes(c.id)),
      )?.t;
    const addAt = event('added');
    const activeAt = event('active');
    const finishAt = event('completed');
    if (addAt === undefined || activeAt === undefined || finishAt === undefined) {
      skipped++;
      continue;
    }
    totals.push(c.t1 - c.t0);
    add('http_to_enqueue', addAt - c.t0);
    add('enqueue_to_pickup', activeAt - addAt);
    if (!o.platform) {
      add('pickup_to_complete', finishAt - activeAt);
      add('complete_to_response', c.t1 - finishAt);
      continue;
    }
    const key = `faas:inv:${c.id}`;
    // The record is written with a plain SET or from a script (a SET guarded by the job's lock).
    const writes = (/** @type {string[]} */ a) => a[0].toLowerCase() === 'set' && a[1] === key;
    const recordAt = inWindow.find((x) => writes(x.args) || x.children.some(writes))?.t;
    const settleAt = inWindow
      .filter((x) => x.args[0].toLowerCase() === 'get' && x.args[1] === key && x.t > finishAt)
      .at(-1)?.t;
    const handlerAt = Number(c.body?.startedAt);
    if (recordAt === undefined || !Number.isFinite(handlerAt)) {
      skipped++;
      totals.pop();
      for (const k of ['http_to_enqueue', 'enqueue_to_pickup']) stages[k]?.pop();
      continue;
    }
    add('pickup_to_handler', handlerAt - activeAt);
    add('handler_to_record', recordAt - handlerAt);
    add('record_to_response', c.t1 - recordAt);
    add('record_to_complete', finishAt - recordAt);
    if (settleAt !== undefined) {
      add('complete_to_notify', settleAt - finishAt);
      add('notify_to_response', c.t1 - settleAt);
    }
  }

  // BENCH_DEBUG_TRACE=<file> keeps the raw trace, for when the platform's Redis steps change.
  if (process.env.BENCH_DEBUG_TRACE)
    await writeFile(process.env.BENCH_DEBUG_TRACE, JSON.stringify({ calls, commands }, null, 1));
  if (totals.length === 0)
    throw new Error(
      `no traced invocation could be split into stages (${commands.length} Redis commands seen)`,
    );
  const timings = o.platform
    ? await recordTimings(
        o.base,
        calls.map((c) => c.id),
      )
    : undefined;
  const order = Object.keys(o.platform ? PLATFORM_STAGES : BASELINE_STAGES);
  const table = Object.fromEntries(
    order.map((k) => [
      k,
      { median_ms: round(median(stages[k] ?? [])), mean_ms: round(mean(stages[k] ?? [])) },
    ]),
  );
  const slowest = order.reduce((a, b) => (table[b].median_ms > table[a].median_ms ? b : a));
  return {
    invocations: totals.length,
    skipped,
    total_median_ms: round(median(totals)),
    stages: table,
    slowest,
    record_timings: timings,
  };
}

/**
 * Means of the invocation records' own timings (whole milliseconds each, so only their means
 * say anything at this scale).
 * @param {string} base
 * @param {string[]} ids
 */
async function recordTimings(base, ids) {
  /** @type {Record<string, number[]>} */
  const t = { queueWaitMs: [], leaseMs: [], durationMs: [], enqueuedToFinishedMs: [] };
  for (const id of ids) {
    const r = await call('GET', `${base}/invocations/${id}`);
    const timings = JSON.parse(r.body).timings;
    t.queueWaitMs.push(timings.queueWaitMs);
    t.leaseMs.push(timings.leaseMs);
    t.durationMs.push(timings.durationMs);
    t.enqueuedToFinishedMs.push(timings.finishedAt - timings.enqueuedAt);
  }
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [`${k}_mean`, round(mean(v))]));
}
