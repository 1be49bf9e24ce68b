/**
 * `npm run bench`: measures the platform on this machine and writes bench/results/latest.json.
 *
 *   npm run bench                       every figure the median of 5 repetitions (min, max in detail)
 *   npm run bench -- --quick            every scenario once, small: checks each completes (CI smoke)
 *   npm run bench -- --compare FILE     also prints each figure against an earlier results file
 *   npm run bench -- --only main,fresh  runs some phases only (baseline, raw, docker, main, fresh, bucket)
 *
 * Platforms run as child processes (`faas up`), each with its own instance, port and state dir,
 * and are stopped by pid; the run's queues, records, bucket and containers are removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/index.js';
import { startBaseline } from './baseline/start.mjs';
import { bucketPhase, cleanupBucket } from './phases/bucket.mjs';
import { machineInfo } from './phases/machine.mjs';
import { mainPhase } from './phases/main.mjs';
import { now } from './lib/clock.mjs';
import { removeContainersWith, runtimeImage } from './lib/docker.mjs';
import { closeHttp } from './lib/http.mjs';
import { startPlatform } from './lib/platform.mjs';
import { Recorder } from './lib/recorder.mjs';
import { connect, dropQueue, unlinkMatching } from './lib/redis.mjs';
import { breakdownTable, compareTable, figuresTable, SCENARIOS } from './lib/report.mjs';
import { FULL, QUICK, freshManifest, names } from './plan.mjs';
import { BASELINE_STAGES, PLATFORM_STAGES, traceWarmPath } from './scenarios/breakdown.mjs';
import { coldStarts, dockerRuns } from './scenarios/cold.mjs';
import { rawBullmq } from './scenarios/throughput.mjs';
import { warmLatency } from './scenarios/warm.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    compare: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});
const PHASES = ['baseline', 'raw', 'docker', 'main', 'fresh', 'bucket'];
const only = args.only ? args.only.split(',') : PHASES;
const sizes = args.quick ? QUICK : FULL;
const run = `b${randomBytes(3).toString('hex')}`;
const n = names(run, sizes.reps);
const config = loadConfig(process.env);
const redis = connect(config.REDIS_URL);
const figures = new Recorder();
const extra = new Recorder();
/** @type {Record<string, string>} */
const errors = {};
/** @type {Record<string, any>} */
const breakdown = {};
/** @type {Record<string, any>} */
const notes = {};
const ctx = { run, n, sizes, config, redis, figures, extra, breakdown, notes, log };
const started = now();
const startedAt = new Date().toISOString();

/** @param {string} msg */
function log(msg) {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

/** @type {Record<string, () => Promise<void>>} */
const phases = {
  async baseline() {
    const b = await startBaseline({ queue: `${run}-baseline`, prefix: 'bench' });
    try {
      log(`baseline server: ${sizes.reps} × ${sizes.warm.count} warm invokes`);
      for (let i = 0; i < sizes.reps; i++) {
        const w = await warmLatency(b.url, 'noop', i === 0 ? sizes.warm : { ...sizes.warm, warmup: 0 });
        figures.add('warm_invoke', 'baseline_p50_ms', w.p50);
        figures.add('warm_invoke', 'baseline_p99_ms', w.p99);
      }
      log(`baseline server: tracing ${sizes.trace} invokes`);
      breakdown.baseline = await traceWarmPath({
        redisUrl: config.REDIS_URL,
        base: b.url,
        fn: 'noop',
        queueKey: `bench:${run}-baseline`,
        n: sizes.trace,
        platform: false,
      });
    } finally {
      await b.stop();
    }
  },

  async raw() {
    const raw = await rawBullmq(config.REDIS_URL, { prefix: 'bench', name: `${run}-raw` });
    try {
      log(`raw BullMQ: ${sizes.reps} × ${sizes.throughput.raw} jobs`);
      await raw.run(Math.min(1000, sizes.throughput.raw));
      for (let i = 0; i < sizes.reps; i++)
        figures.add('throughput', 'raw_bullmq_jobs_per_s', await raw.run(sizes.throughput.raw));
    } finally {
      await raw.close();
    }
  },

  async docker() {
    const image = await runtimeImage();
    notes.docker_run_image = image;
    log(`docker run --rm --network none ${image} node -e …: ${sizes.reps} runs`);
    await dockerRuns(image, 1, `faas.bench=${run}`);
    figures.addAll('cold_start', 'docker_run_ms', await dockerRuns(image, sizes.reps, `faas.bench=${run}`));
  },

  main: () => mainPhase(ctx),

  async fresh() {
    log('fresh platform (FAAS_PREWARM=0): starting');
    const p = await startPlatform({ instance: `${run}-fresh`, functions: freshManifest(n), prewarm: 0 });
    try {
      log(`fresh platform: ${n.fresh.length} cold starts`);
      const c = await coldStarts(p, n.fresh, { prewarmed: false });
      figures.addAll('cold_start', 'fresh_ms', c.e2e);
      extra.addAll('cold_start', 'fresh_record_lease_plus_duration_ms', c.recordMs);
      if (c.mismatched.length) notes.fresh_not_counted_as_fresh = c.mismatched;
    } finally {
      const s = await p.stop();
      if (s.leftovers) notes.fresh_leftover_containers = s.leftovers;
    }
  },

  bucket: () => bucketPhase(ctx),
};

/** Removes what this run made: queues, records, the bucket, containers. */
async function cleanup() {
  const queues = [n.noop, n.trace, n.tp, n.scale, n.stamp, ...n.prewarmed, ...n.fresh];
  let keys = 0;
  for (const fn of queues) keys += await dropQueue(redis, 'faas', `fn.${fn}`);
  for (const q of [`${run}-baseline`, `${run}-raw`]) keys += await dropQueue(redis, 'bench', q);
  keys += await unlinkMatching(redis, `faas:inv:${run}-*`);
  await cleanupBucket(ctx).catch((err) => (errors.cleanup_bucket = err.message));
  let containers = await removeContainersWith(`faas.bench=${run}`);
  for (const i of ['main', 'fresh', 'bucket']) containers += await removeContainersWith(`faas.instance=${run}-${i}`);
  return { leftover_keys_removed: keys, leftover_containers_removed: containers };
}

/** The required objects, keys in the documented order, from the medians. */
function assemble() {
  const { medians: m, detail } = figures.summary();
  const w = m.warm_invoke ?? {};
  const c = m.cold_start ?? {};
  const t = m.throughput ?? {};
  const b = m.bucket ?? {};
  const s = m.scaling ?? {};
  const mem = m.memory ?? {};
  const ratio = (/** @type {number} */ a, /** @type {number} */ z) => Number((a / z).toFixed(3));
  return {
    warm_invoke: {
      p50_ms: w.p50_ms,
      p99_ms: w.p99_ms,
      baseline_p50_ms: w.baseline_p50_ms,
      baseline_p99_ms: w.baseline_p99_ms,
      ratio_p50: ratio(w.p50_ms, w.baseline_p50_ms),
    },
    cold_start: {
      prewarmed_ms: c.prewarmed_ms,
      fresh_ms: c.fresh_ms,
      docker_run_ms: c.docker_run_ms,
      ratio_prewarmed_vs_docker_run: ratio(c.prewarmed_ms, c.docker_run_ms),
    },
    throughput: {
      invocations_per_s: t.invocations_per_s,
      raw_bullmq_jobs_per_s: t.raw_bullmq_jobs_per_s,
      ratio: ratio(t.invocations_per_s, t.raw_bullmq_jobs_per_s),
    },
    bucket: {
      put_to_start_p50_ms: b.put_to_start_p50_ms,
      put_to_start_p99_ms: b.put_to_start_p99_ms,
      uploads_per_s: b.uploads_per_s,
    },
    scaling: {
      backlog_to_first_container_ms: s.backlog_to_first_container_ms,
      zero_to_max_s: s.zero_to_max_s,
      max_containers: s.max_containers,
      drain_to_zero_s: s.drain_to_zero_s,
    },
    memory: {
      platform_idle_rss_mb: mem.platform_idle_rss_mb,
      platform_load_rss_mb: mem.platform_load_rss_mb,
      container_idle_mb: mem.container_idle_mb,
    },
    detail,
  };
}

const METHODS = {
  warm_invoke:
    'sync POST /functions/:name/invoke of a no-op in a warm container, one at a time, end-to-end at the client; p50/p99 per repetition of ' +
    `${sizes.warm.count} invokes. Baseline: bench/baseline/server.mjs, the same Hono + BullMQ round trip with the handler in the worker's process`,
  cold_start:
    'end-to-end sync invoke latency of the first call of a never-called function (detail.extra has the record-based leaseMs + durationMs); ' +
    'prewarmed: FAAS_PREWARM=1 with a ready generic container; fresh: FAAS_PREWARM=0; docker_run: docker run --rm --network none <runtime image> /usr/bin/node -e <no-op handler>',
  throughput: `${sizes.throughput.total} async invokes, ${sizes.throughput.concurrency} in flight, no-op, scale.max 4, concurrency 16; from first request to last job finished. Raw: BullMQ addBulk + Worker(concurrency 50), no-op, in the bench process`,
  bucket: `PutObject resolved → handler's own start time (same host clock); ${sizes.bucket.sequential} uploads one at a time per repetition. uploads_per_s: ${sizes.bucket.sustained} uploads, ${sizes.bucket.concurrency} at once, until the last is processed`,
  scaling: `${sizes.backlog} async invokes of a 200 ms handler, scale { min: 0, max: 8, idleTimeout: 2s }; faas_containers sampled every 50 ms; first/max count containers in state ready; drain: last job finished → no container left`,
  memory: 'VmRSS of the platform process idle (after start) and its peak during the throughput runs; docker stats memory of idle warm containers',
};

async function main() {
  process.once('SIGINT', () => {
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  log(`run ${run}${args.quick ? ' (quick)' : ''}: ${only.join(', ')}`);
  const machine = await machineInfo(config);
  for (const phase of PHASES.filter((p) => only.includes(p))) {
    try {
      await phases[phase]();
    } catch (err) {
      errors[phase] = /** @type {Error} */ (err).message;
      log(`${phase} failed: ${errors[phase]}`);
    }
  }
  log('cleaning up');
  const cleaned = await cleanup();
  const { detail, ...required } = assemble();
  const results = {
    ...required,
    machine: machine.required,
    warm_path_breakdown: {
      platform: breakdown.platform,
      baseline: breakdown.baseline,
      slowest_stage: breakdown.platform?.slowest,
      stage_meanings: { platform: PLATFORM_STAGES, baseline: BASELINE_STAGES },
    },
    detail: { ...detail, extra: extra.summary().detail },
    meta: {
      run,
      quick: args.quick,
      reps: sizes.reps,
      started_at: startedAt,
      duration_s: Math.round((now() - started) / 1000),
      machine: machine.more,
      methods: METHODS,
      notes,
      cleanup: cleaned,
      errors,
    },
  };
  const missing = SCENARIOS.filter((s) => only.includes(phaseOf(s))).flatMap((s) =>
    Object.entries(/** @type {Record<string, unknown>} */ (results)[s] ?? {})
      .filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v))
      .map(([k]) => `${s}.${k}`),
  );
  if (missing.length && only.length === PHASES.length) errors.missing = missing.join(', ');

  const dir = join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const out = args.out ?? join(dir, args.quick ? 'quick.json' : 'latest.json');
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n${figuresTable(results)}\n`);
  console.log(`warm-path breakdown (Redis MONITOR + client + handler timestamps):\n\n${breakdownTable(results.warm_path_breakdown)}\n`);
  if (results.warm_path_breakdown.slowest_stage)
    console.log(`slowest stage of a warm invoke: ${results.warm_path_breakdown.slowest_stage}\n`);
  if (args.compare) {
    const before = JSON.parse(await readFile(args.compare, 'utf8'));
    console.log(`compared with ${args.compare}:\n\n${compareTable(results, before)}\n`);
  }
  console.log(`wrote ${out} (${results.meta.duration_s} s)`);
  if (Object.keys(errors).length) {
    console.error(`\nproblems:\n${Object.entries(errors).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    process.exitCode = 1;
  }
}

/** @param {string} scenario */
function phaseOf(scenario) {
  return { warm_invoke: 'main', cold_start: 'main', throughput: 'main', bucket: 'bucket', scaling: 'main', memory: 'main' }[
    scenario
  ] ?? 'main';
}

try {
  await main();
} finally {
  redis.disconnect();
  closeHttp();
}
