/**
 * `npm run bench`: measures the platform on this machine and writes bench/results/latest.json.
 *
 *   npm run bench                       every figure the median of 5 repetitions (min, max in detail)
 *   npm run bench -- --quick            every scenario once, small: checks each completes (CI smoke)
 *   npm run bench -- --compare FILE     also prints each figure against an earlier results file
 *   npm run bench -- --only main,fresh  runs some phases only (baseline, raw, docker, main, fresh, python, bucket,
 *                                       s3, many_functions)
 *   npm run bench -- --functions 1000   functions of the many_functions phase (default 200, --quick 50)
 *   npm run bench -- --profile          runs the main platform under node --cpu-prof (bench/results/profiles)
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
import { machineInfo, redisRunId } from './phases/machine.mjs';
import { mainPhase } from './phases/main.mjs';
import { manyPhase } from './phases/many.mjs';
import { pythonPhase, pythonQueues } from './phases/python.mjs';
import { cleanupS3Bucket, s3Phase } from './phases/s3.mjs';
import { now } from './lib/clock.mjs';
import { removeContainersWith, runtimeImage } from './lib/docker.mjs';
import { stopAll } from './lib/children.mjs';
import { closeHttp } from './lib/http.mjs';
import { startPlatform } from './lib/platform.mjs';
import { Recorder } from './lib/recorder.mjs';
import { assemble, methods } from './lib/results.mjs';
import { connect, dropQueue, unlinkMatching } from './lib/redis.mjs';
import { aimsTable, breakdownTable, compareTable, figuresTable, SCENARIOS, table } from './lib/report.mjs';
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
    profile: { type: 'boolean', default: false },
    functions: { type: 'string' },
  },
});
const PHASES = ['baseline', 'raw', 'docker', 'main', 'fresh', 'python', 'bucket', 's3', 'many_functions'];
const only = args.only ? args.only.split(',') : PHASES;
const unknown = only.filter((p) => !PHASES.includes(p));
if (unknown.length) throw new Error(`unknown phase ${unknown.join(', ')}: choose from ${PHASES.join(', ')}`);
const sizes = args.quick ? QUICK : FULL;
const manyCount = args.functions ? Number(args.functions) : sizes.many.functions;
if (!Number.isInteger(manyCount) || manyCount < 1 || manyCount > 9999)
  throw new Error(`--functions ${args.functions}: a whole number from 1 to 9999`);
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
const ctx = {
  run,
  n,
  sizes,
  config,
  redis,
  figures,
  extra,
  breakdown,
  notes,
  log,
  profile: args.profile,
  /** @type {import('./phases/main.mjs').Paired} */
  paired: {},
};
const started = now();
const startedAt = new Date().toISOString();

/** @param {string} msg */
function log(msg) {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

/** @type {Record<string, () => Promise<void>>} */
const phases = {
  // With the main phase in the run, the baseline server and raw BullMQ stay up for it: its warm
  // invokes and throughput runs alternate with theirs, rep by rep, so that a machine whose speed
  // drifts over minutes (a shared host) moves both sides of each ratio alike.
  async baseline() {
    const b = await startBaseline({ queue: `${run}-baseline`, prefix: 'bench' });
    let kept = false;
    try {
      log(`baseline server: tracing ${sizes.trace} invokes`);
      await warmLatency(b.url, 'noop', { ...sizes.warm, count: 0 });
      breakdown.baseline = await traceWarmPath({
        redisUrl: config.REDIS_URL,
        base: b.url,
        fn: 'noop',
        queueKey: `bench:${run}-baseline`,
        n: sizes.trace,
        platform: false,
      });
      if (only.includes('main')) {
        // The throughput floor, for the main phase's throughput reps only (see README.md). Started
        // first: if it fails, the baseline server is stopped here and not left for the main phase.
        ctx.paired.bare = await startBaseline({
          queue: `${run}-bare`,
          prefix: 'bench',
          server: 'bare',
          image: await runtimeImage(),
          label: `faas.bench=${run}`,
        });
        ctx.paired.baseline = b;
        kept = true;
        return;
      }
      log(`baseline server: ${sizes.reps} × ${sizes.warm.count} warm invokes`);
      for (let i = 0; i < sizes.reps; i++) {
        const w = await warmLatency(b.url, 'noop', i === 0 ? sizes.warm : { ...sizes.warm, warmup: 0 });
        figures.add('warm_invoke', 'baseline_p50_ms', w.p50);
        figures.add('warm_invoke', 'baseline_p99_ms', w.p99);
      }
    } finally {
      if (!kept) await b.stop();
    }
  },

  async raw() {
    const raw = await rawBullmq(config.REDIS_URL, { prefix: 'bench', name: `${run}-raw` });
    let kept = false;
    try {
      await raw.run(Math.min(1000, sizes.throughput.raw));
      if (only.includes('main')) {
        ctx.paired.raw = raw;
        kept = true;
        return;
      }
      log(`raw BullMQ: ${sizes.reps} × ${sizes.throughput.raw} jobs`);
      for (let i = 0; i < sizes.reps; i++)
        figures.add('throughput', 'raw_bullmq_jobs_per_s', await raw.run(sizes.throughput.raw));
    } finally {
      if (!kept) await raw.close();
    }
  },

  async docker() {
    const image = await runtimeImage();
    notes.docker_run_image = image;
    log(`docker run --rm --network none ${image} node -e …: ${sizes.reps} runs`);
    await dockerRuns(image, 1, `faas.bench=${run}`);
    figures.addAll('cold_start', 'docker_run_ms', await dockerRuns(image, sizes.reps, `faas.bench=${run}`));
  },

  async main() {
    try {
      await mainPhase(ctx);
    } finally {
      await ctx.paired.baseline?.stop();
      await ctx.paired.bare?.stop();
      await ctx.paired.raw?.close();
    }
  },

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

  python: () => pythonPhase(ctx),

  bucket: () => bucketPhase(ctx),

  s3: () => s3Phase(ctx),

  many_functions: () => manyPhase(ctx, manyCount),
};

/** Removes what this run made: queues, records, the bucket, containers. */
async function cleanup() {
  const queues = [
    ...[n.noop, n.trace, n.tp, n.tpBatch, n.scale, n.stamp, n.s3, ...n.prewarmed, ...n.fresh],
    ...pythonQueues(run, sizes.reps),
  ];
  let keys = 0;
  for (const fn of queues) keys += await dropQueue(redis, 'faas', `fn.${fn}`);
  for (const q of [`${run}-baseline`, `${run}-bare`, `${run}-raw`])
    keys += await dropQueue(redis, 'bench', q);
  // The many-functions queues, by pattern: a thousand obliterations would take longer than the run.
  keys += await unlinkMatching(redis, `faas:fn.${run}-m*`);
  keys += await unlinkMatching(redis, `faas:inv:${run}-*`);
  keys += await unlinkMatching(redis, `faas:fnidx:${run}-*`);
  await cleanupBucket(ctx).catch((err) => (errors.cleanup_bucket = err.message));
  await cleanupS3Bucket(ctx).catch((err) => (errors.cleanup_s3_bucket = err.message));
  let containers = await removeContainersWith(`faas.bench=${run}`);
  for (const i of ['main', 'fresh', 'python', 'pyfresh', 'bucket', 's3', 'many'])
    containers += await removeContainersWith(`faas.instance=${run}-${i}`);
  return { redis_keys_removed: keys, leftover_containers_removed: containers };
}

async function main() {
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers it started, then cleaning up');
    void stopAll()
      .then(cleanup)
      .finally(() => process.exit(130));
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
  // Another process restarting Redis mid-run (fault-injection tests do) invalidates the figures.
  if ((await redisRunId(redis).catch(() => undefined)) !== machine.redisRunId)
    errors.redis_restarted = 'Redis restarted during the run (another process?): the figures are not valid';
  log('cleaning up');
  const cleaned = await cleanup();
  const { detail, ...required } = assemble(figures);
  const results = {
    ...required,
    machine: machine.required,
    warm_path_breakdown: {
      platform: breakdown.platform,
      baseline: breakdown.baseline,
      slowest_stage: breakdown.platform?.slowest,
      cpu_profile: breakdown.cpu_profile,
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
      methods: methods(sizes),
      notes,
      cleanup: cleaned,
      errors,
    },
  };
  // Every required figure must come out a number when every phase ran (what --quick checks).
  const missing = SCENARIOS.flatMap((s) =>
    Object.entries(/** @type {Record<string, unknown>} */ (results)[s] ?? {})
      .filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v))
      .map(([k]) => `${s}.${k}`),
  );
  if (missing.length && only.length === PHASES.length) errors.missing = missing.join(', ');

  const dir = join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const out =
    args.out ?? join(dir, args.quick ? 'quick.json' : args.profile ? 'profile.json' : 'latest.json');
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n${figuresTable(results)}\n`);
  if (results.many_functions.functions !== undefined)
    console.log(
      `issue #17's aims (${results.many_functions.functions} functions):\n\n${aimsTable(results)}\n`,
    );
  console.log(
    `warm-path breakdown (Redis MONITOR + client + handler timestamps):\n\n${breakdownTable(results.warm_path_breakdown)}\n`,
  );
  if (results.warm_path_breakdown.slowest_stage)
    console.log(`slowest stage of a warm invoke: ${results.warm_path_breakdown.slowest_stage}\n`);
  const prof = results.warm_path_breakdown.cpu_profile;
  if (prof) {
    const rows = [
      [`platform CPU, self time (${prof.busy_s} s busy)`, '%'],
      ...prof.by_owner.map((/** @type {any} */ o) => [o.name, String(o.percent)]),
    ];
    console.log(`${table(rows)}\n\nprofile: ${prof.file}\n`);
  }
  if (args.compare) {
    const before = JSON.parse(await readFile(args.compare, 'utf8'));
    console.log(`compared with ${args.compare}:\n\n${compareTable(results, before)}\n`);
  }
  console.log(`wrote ${out} (${results.meta.duration_s} s)`);
  if (Object.keys(errors).length) {
    console.error(
      `\nproblems:\n${Object.entries(errors)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  redis.disconnect();
  closeHttp();
}
