/**
 * The main platform (FAAS_PREWARM=1): idle memory, warm invokes, the warm-path breakdown,
 * pre-warmed cold starts, idle container memory, scaling, and throughput with memory under load.
 * With `--profile` the platform runs under `node --cpu-prof` (slower: its figures are not for
 * comparison) and the profile's summary lands in the results.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep, waitFor } from '../lib/clock.mjs';
import { containerMemMb, containersWith } from '../lib/docker.mjs';
import { metricSamples, startPlatform } from '../lib/platform.mjs';
import { newestProfile, summarizeProfile } from '../lib/profile.mjs';
import { mainManifest } from '../plan.mjs';
import { traceWarmPath } from '../scenarios/breakdown.mjs';
import { coldStarts } from '../scenarios/cold.mjs';
import { scaleOutAndIn } from '../scenarios/scaling.mjs';
import { platformThroughput } from '../scenarios/throughput.mjs';
import { interleavedLatency, warmLatency } from '../scenarios/warm.mjs';

/**
 * @typedef {{ run: string, n: ReturnType<typeof import('../plan.mjs').names>,
 *   sizes: import('../plan.mjs').Sizes, config: { REDIS_URL: string, stateDir: string, S3_ENDPOINT: string,
 *   S3_REGION: string, S3_ACCESS_KEY_ID: string, S3_SECRET_ACCESS_KEY: string },
 *   redis: import('ioredis').Redis, figures: import('../lib/recorder.mjs').Recorder,
 *   extra: import('../lib/recorder.mjs').Recorder, breakdown: Record<string, any>,
 *   notes: Record<string, any>, log: (msg: string) => void, profile: boolean, paired: Paired }} Ctx
 */

/**
 * The references the main phase alternates with, rep by rep, when the run has them (the baseline
 * and raw phases leave them up for it): the baseline server for warm invokes, raw BullMQ for
 * throughput.
 * The bare server (baseline/bare.mjs) is the floor of the throughput reps: node:http, one job per
 * request, no framework, container or record.
 * @typedef {{ baseline?: { url: string, stop: () => Promise<void> },
 *   bare?: { url: string, stop: () => Promise<void> },
 *   raw?: { run: (total: number) => Promise<number>, close: () => Promise<void> } }} Paired
 */

/** Events per request in the batched throughput runs: raw BullMQ's addBulk chunk. */
const BATCH_EVENTS = 1000;

/**
 * How long the platform rests after its start before its idle memory is read. Its at-rest
 * collection comes in the first quiet 3 s window after the start, and V8 shrinks the young
 * generation about 8 s after that: on 2 cores RSS falls by about 35 MB some 16 s after the warm
 * containers are ready. 20 s left too little margin for a slower start (the first run after a
 * build read 118 MB, the runs after it 84), so the reading waits 30 s.
 */
const REST_MS = 30_000;

/** @param {Ctx} ctx */
export async function mainPhase(ctx) {
  const { n, sizes, figures, extra, log } = ctx;
  log('main platform (FAAS_PREWARM=1): starting');
  const profileDir = join(import.meta.dirname, '..', 'results', 'profiles');
  if (ctx.profile) await mkdir(profileDir, { recursive: true });
  const p = await startPlatform({
    instance: `${ctx.run}-main`,
    functions: mainManifest(n),
    prewarm: 1,
    // The per-source limit (FAAS_RATE_LIMIT, 2000/s by default) would cap the throughput runs,
    // which all come from 127.0.0.1: the benchmark measures the platform, not the limiter.
    env: { FAAS_RATE_LIMIT: '1000000' },
    nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  try {
    await waitFor('the warm containers (scale.min) and one generic container', async () => {
      const [a, b, g] = await Promise.all([p.containers(n.noop), p.containers(n.trace), p.containers('')]);
      return a.ready === 1 && b.ready === 1 && g.generic === 1 ? true : undefined;
    });
    // At rest: the platform collects its heap once its event loop has been quiet for a 3 s
    // window after the start, and V8's memory reducer shrinks the young generation about 8 s
    // after that (src/observability/idle-trim.ts).
    await sleep(REST_MS);
    for (let i = 0; i < sizes.reps; i++) {
      figures.add('memory', 'platform_idle_rss_mb', await p.rssMb());
      await sleep(200);
    }
    const idleHeap = metricSamples(await p.metrics(), 'faas_process_nodejs_heap_size_used_bytes')[0];
    if (idleHeap) extra.add('memory', 'platform_heap_used_idle_mb', idleHeap.value / 1048576);

    const base = ctx.paired.baseline;
    log(
      `main platform: ${sizes.reps} × ${sizes.warm.count} warm invokes${base ? ', alternating with the baseline server' : ''}`,
    );
    for (let i = 0; i < sizes.reps; i++) {
      const warm = i === 0 ? sizes.warm : { ...sizes.warm, warmup: 0 };
      if (base) {
        const b = await warmLatency(base.url, 'noop', warm);
        figures.add('warm_invoke', 'baseline_p50_ms', b.p50);
        figures.add('warm_invoke', 'baseline_p99_ms', b.p99);
      }
      const w = await warmLatency(p.url, n.noop, warm);
      figures.add('warm_invoke', 'p50_ms', w.p50);
      figures.add('warm_invoke', 'p99_ms', w.p99);
    }
    if (base) {
      // The same comparison paired invoke by invoke: the machine's drift cancels out, but each side
      // also finds the other's idle time to finish what it does after answering.
      for (let i = 0; i < sizes.reps; i++) {
        const x = await interleavedLatency(
          { base: base.url, fn: 'noop' },
          { base: p.url, fn: n.noop },
          sizes.warm,
        );
        extra.add('warm_invoke', 'interleaved_baseline_p50_ms', x.a);
        extra.add('warm_invoke', 'interleaved_p50_ms', x.b);
        extra.add('warm_invoke', 'interleaved_ratio_p50', x.b / x.a);
      }
    }

    log(`main platform: tracing ${sizes.trace} warm invokes`);
    await warmLatency(p.url, n.trace, { warmup: 20, count: 0 });
    ctx.breakdown.platform = await traceWarmPath({
      redisUrl: ctx.config.REDIS_URL,
      base: p.url,
      fn: n.trace,
      queueKey: `faas:fn.${n.trace}`,
      n: sizes.trace,
      platform: true,
    });

    log(`main platform: ${n.prewarmed.length} pre-warmed cold starts`);
    const c = await coldStarts(p, n.prewarmed, { prewarmed: true });
    figures.addAll('cold_start', 'prewarmed_ms', c.e2e);
    extra.addAll('cold_start', 'prewarmed_record_lease_plus_duration_ms', c.recordMs);
    if (c.mismatched.length) ctx.notes.prewarmed_not_counted_as_prewarmed = c.mismatched;

    // Every container of this platform is idle now: warm function containers and one generic.
    await sleep(1000);
    const ids = await containersWith(`faas.instance=${p.instance}`);
    figures.addAll('memory', 'container_idle_mb', await containerMemMb(ids));

    log(`main platform: ${sizes.reps} × scale out and in (backlog ${sizes.backlog})`);
    for (let i = 0; i < sizes.reps; i++) {
      const s = await scaleOutAndIn(p, n.scale, {
        backlog: sizes.backlog,
        redis: ctx.redis,
        queueKey: `faas:fn.${n.scale}`,
      });
      figures.add('scaling', 'backlog_to_first_container_ms', s.firstContainerMs);
      figures.add('scaling', 'zero_to_max_s', s.zeroToMaxS);
      figures.add('scaling', 'max_containers', s.maxContainers);
      figures.add('scaling', 'drain_to_zero_s', s.drainToZeroS);
      extra.add('scaling', 'backlog_to_first_container_created_ms', s.firstExistingMs);
      extra.add('scaling', 'backlog_drained_s', s.drainedAtS);
      extra.add('scaling', 'backlog_accepted_ms', s.acceptedMs);
    }

    const t = sizes.throughput;
    log(`main platform: throughput warm-up (${t.warmup}), then ${sizes.reps} × ${t.total} async invokes`);
    const tp = { redis: ctx.redis, queueKey: `faas:fn.${n.tp}`, concurrency: t.concurrency };
    await platformThroughput(p, n.tp, { ...tp, total: t.warmup });
    const tpBatch = { ...tp, queueKey: `faas:fn.${n.tpBatch}` };
    await platformThroughput(p, n.tpBatch, { ...tpBatch, total: t.warmup, batch: BATCH_EVENTS });
    const raw = ctx.paired.raw;
    // The baseline server's async path (Hono, one BullMQ add per request, the no-op in its worker's
    // process): what taking jobs one HTTP request at a time costs before containers and records.
    const baseTp = base && {
      url: base.url,
      o: { redis: ctx.redis, queueKey: `bench:${ctx.run}-baseline`, concurrency: t.concurrency },
    };
    if (baseTp) await platformThroughput(baseTp, 'noop', { ...baseTp.o, total: t.warmup });
    const bare = ctx.paired.bare;
    const bareTp = { redis: ctx.redis, queueKey: `bench:${ctx.run}-bare`, concurrency: t.concurrency };
    if (bare)
      for (const route of ['noop', 'coalesced', 'container'])
        await platformThroughput(bare, route, { ...bareTp, total: t.warmup });
    for (let i = 0; i < sizes.reps; i++) {
      if (raw) figures.add('throughput', 'raw_bullmq_jobs_per_s', await raw.run(t.raw));
      if (baseTp) {
        const b = await platformThroughput(baseTp, 'noop', { ...baseTp.o, total: t.total });
        figures.add('throughput', 'baseline_invocations_per_s', b.perSecond);
      }
      if (bare) {
        const one = await platformThroughput(bare, 'noop', { ...bareTp, total: t.total });
        figures.add('throughput', 'bare_invocations_per_s', one.perSecond);
        const turn = await platformThroughput(bare, 'coalesced', { ...bareTp, total: t.total });
        figures.add('throughput', 'bare_coalesced_invocations_per_s', turn.perSecond);
        const ct = await platformThroughput(bare, 'container', { ...bareTp, total: t.total });
        figures.add('throughput', 'bare_container_invocations_per_s', ct.perSecond);
      }
      const r = await platformThroughput(p, n.tp, { ...tp, total: t.total });
      figures.add('throughput', 'invocations_per_s', r.perSecond);
      // The same work taken as raw BullMQ takes it, a thousand jobs a call: the batch route.
      const bt = await platformThroughput(p, n.tpBatch, { ...tpBatch, total: t.total, batch: BATCH_EVENTS });
      figures.add('throughput', 'batch_invocations_per_s', bt.perSecond);
      if (bt.refused || bt.failed)
        ctx.notes[`throughput_batch_rep${i + 1}`] = { refused: bt.refusals, failed: bt.failed };
      figures.add('memory', 'platform_load_rss_mb', r.peakRssMb);
      extra.add('throughput', 'redis_bytes_retained_per_invocation', r.redisBytesPerInvocation);
      if (r.refused || r.failed)
        ctx.notes[`throughput_rep${i + 1}`] = { refused: r.refusals, failed: r.failed };
    }
    // Whether the memory taken under load stays: RSS and V8 heap after a few idle seconds.
    await sleep(5000);
    extra.add('memory', 'platform_rss_5s_after_load_mb', await p.rssMb());
    const heap = metricSamples(await p.metrics(), 'faas_process_nodejs_heap_size_used_bytes')[0];
    if (heap) extra.add('memory', 'platform_heap_used_5s_after_load_mb', heap.value / 1048576);
  } catch (err) {
    ctx.notes.main_platform_output = p.output().split('\n').slice(-40).join('\n');
    throw err;
  } finally {
    const s = await p.stop();
    if (s.leftovers) ctx.notes.main_leftover_containers = s.leftovers;
    if (s.code !== 0) ctx.notes.main_exit_code = s.code;
    const file = ctx.profile ? await newestProfile(profileDir) : undefined;
    if (file) ctx.breakdown.cpu_profile = await summarizeProfile(file);
  }
}
