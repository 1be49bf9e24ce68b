/** The results file: required figures from the repetitions, and how each was measured. */

/**
 * Issue #17's aims for the many-functions figures (each an upper bound), kept beside them in the
 * results as `aim_<figure>_max`.
 */
export const MANY_FUNCTIONS_AIMS = {
  aim_redis_connections_max: 12,
  aim_idle_redis_commands_per_s_max: 200,
  aim_idle_rss_mb_max: 150,
  aim_ratio_first_calls_vs_docker_start_max: 1.2,
};

/**
 * The required objects, keys in the documented order, from the medians; ratios are ratios of
 * medians. `detail` has median, min and max of every measured figure.
 * @param {import('./recorder.mjs').Recorder} figures
 */
export function assemble(figures) {
  const { medians: m, detail } = figures.summary();
  const w = m.warm_invoke ?? {};
  const c = m.cold_start ?? {};
  const t = m.throughput ?? {};
  const b = m.bucket ?? {};
  const s = m.scaling ?? {};
  const mem = m.memory ?? {};
  const s3 = m.s3_endpoint ?? {};
  const many = m.many_functions ?? {};
  const ratio = (/** @type {number} */ a, /** @type {number} */ z) => Number((a / z).toFixed(3));
  return {
    warm_invoke: {
      p50_ms: w.p50_ms,
      p99_ms: w.p99_ms,
      baseline_p50_ms: w.baseline_p50_ms,
      baseline_p99_ms: w.baseline_p99_ms,
      ratio_p50: ratio(w.p50_ms, w.baseline_p50_ms),
      python_p50_ms: w.python_p50_ms,
      python_p99_ms: w.python_p99_ms,
      node_same_platform_p50_ms: w.node_same_platform_p50_ms,
      ratio_python_vs_node_p50: ratio(w.python_p50_ms, w.node_same_platform_p50_ms),
    },
    cold_start: {
      prewarmed_ms: c.prewarmed_ms,
      fresh_ms: c.fresh_ms,
      docker_run_ms: c.docker_run_ms,
      ratio_prewarmed_vs_docker_run: ratio(c.prewarmed_ms, c.docker_run_ms),
      python_prewarmed_ms: c.python_prewarmed_ms,
      python_fresh_ms: c.python_fresh_ms,
    },
    throughput: {
      invocations_per_s: t.invocations_per_s,
      raw_bullmq_jobs_per_s: t.raw_bullmq_jobs_per_s,
      ratio: ratio(t.invocations_per_s, t.raw_bullmq_jobs_per_s),
      baseline_invocations_per_s: t.baseline_invocations_per_s,
      ratio_baseline_vs_raw: ratio(t.baseline_invocations_per_s, t.raw_bullmq_jobs_per_s),
      ratio_vs_baseline: ratio(t.invocations_per_s, t.baseline_invocations_per_s),
      bare_invocations_per_s: t.bare_invocations_per_s,
      ratio_bare_vs_raw: ratio(t.bare_invocations_per_s, t.raw_bullmq_jobs_per_s),
      bare_coalesced_invocations_per_s: t.bare_coalesced_invocations_per_s,
      ratio_bare_coalesced_vs_raw: ratio(t.bare_coalesced_invocations_per_s, t.raw_bullmq_jobs_per_s),
      bare_container_invocations_per_s: t.bare_container_invocations_per_s,
      ratio_bare_container_vs_raw: ratio(t.bare_container_invocations_per_s, t.raw_bullmq_jobs_per_s),
      ratio_vs_bare_container: ratio(t.invocations_per_s, t.bare_container_invocations_per_s),
      batch_invocations_per_s: t.batch_invocations_per_s,
      ratio_batch: ratio(t.batch_invocations_per_s, t.raw_bullmq_jobs_per_s),
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
    s3_endpoint: {
      get_1kb_p50_ms: s3.get_1kb_p50_ms,
      host_get_1kb_p50_ms: s3.host_get_1kb_p50_ms,
      ratio_1kb_p50: ratio(s3.get_1kb_p50_ms, s3.host_get_1kb_p50_ms),
      get_10mb_mb_per_s: s3.get_10mb_mb_per_s,
      host_get_10mb_mb_per_s: s3.host_get_10mb_mb_per_s,
      ratio_10mb_throughput: ratio(s3.get_10mb_mb_per_s, s3.host_get_10mb_mb_per_s),
    },
    many_functions: {
      functions: many.functions,
      redis_connections: many.redis_connections,
      idle_redis_commands_per_s: many.idle_redis_commands_per_s,
      idle_rss_mb: many.idle_rss_mb,
      first_calls_all_ms: many.first_calls_all_ms,
      docker_start_all_ms: many.docker_start_all_ms,
      ratio_first_calls_vs_docker_start: ratio(many.first_calls_all_ms, many.docker_start_all_ms),
      ...MANY_FUNCTIONS_AIMS,
    },
    detail,
  };
}

/**
 * How each figure was measured, stored with the results.
 * @param {import('../plan.mjs').Sizes} sizes
 */
export function methods(sizes) {
  return {
    warm_invoke:
      'sync POST /functions/:name/invoke of a no-op in a warm container, one at a time, end-to-end at the client; p50/p99 per repetition of ' +
      `${sizes.warm.count} invokes. Baseline: bench/baseline/server.mjs, the same Hono + BullMQ round trip with the handler in the worker's process`,
    cold_start:
      'end-to-end sync invoke latency of the first call of a never-called function (detail.extra has the record-based leaseMs + durationMs); ' +
      'prewarmed: FAAS_PREWARM=1 with a ready generic container; fresh: FAAS_PREWARM=0; docker_run: docker run --rm --network none <runtime image> /usr/bin/node -e <no-op handler>',
    throughput: `${sizes.throughput.total} async invokes, ${sizes.throughput.concurrency} in flight, no-op, scale.max 4, concurrency 16; from first request to last job finished; the platform runs with FAAS_RATE_LIMIT=1000000 (the default 2000/s per source would refuse part of the load, all of it from 127.0.0.1). Raw: BullMQ addBulk + Worker(concurrency 50), no-op, in the bench process. Baseline: the same async invokes against bench/baseline/server.mjs (one BullMQ add per request, the no-op in its worker's process: no containers, no records), when the baseline phase runs with the main one. Batch: the same number of async invocations, to a function of their own (a function keeps at most 100,000 finished jobs, which the runs count), posted 1,000 events a request, one request after another, to POST /functions/:name/invocations (as raw's jobs go by addBulk in chunks of 1,000). Each rep runs raw, baseline, platform and batch in turn`,
    bucket:
      `PutObject resolved → the handler's own start time (same host clock), as MinIO's webhook targets deliver them (services:up); ${sizes.bucket.trickle} uploads 100–200 ms apart per repetition. Can be negative: MinIO may deliver the event before its PutObject answer reaches the client. ` +
      `uploads_per_s: ${sizes.bucket.sustained} uploads, ${sizes.bucket.concurrency} at once, until the last is processed`,
    scaling: `${sizes.backlog} async invokes of a 200 ms handler, scale { min: 0, max: 8, idleTimeout: 2s }; faas_containers sampled every 50 ms; first/max count containers in state ready; drain: last job finished → no container left`,
    s3_endpoint:
      `GetObject with the AWS SDK, one at a time, each body read to its end: inside a warm container through its S3 endpoint (new S3Client({}) → 127.0.0.1:4566 → runtime socket → host proxy → MinIO), timed by the handler, against the same calls from the bench process straight to MinIO. ` +
      `Per repetition: ${sizes.s3.small} reads of 1 KB (p50; ${sizes.s3.warmup} unmeasured first) and ${sizes.s3.large} of 10 MB (MB/s over the reads; one unmeasured first). Ratios: container / host`,
    many_functions:
      `${sizes.many.functions} functions unless --functions says otherwise (no-op handler, one webhook trigger each, scale { min: 0, max: 1 }, timeout 120s) on one faas up with FAAS_PREWARM=1, FAAS_MAX_CONTAINERS = functions + 8, FAAS_RATE_LIMIT=1000000 and FAAS_MAX_CONNECTIONS_PER_SOURCE = functions + 256, measured ${sizes.many.settleMs / 1000} s after its generic container is ready. ` +
      'redis_connections: CLIENT LIST entries whose client port is the local port of an established TCP socket the platform process holds to Redis (/proc/<pid>/fd and /proc/<pid>/net/tcp), so other users of the same Redis never count. ' +
      `idle_redis_commands_per_s: the platform's commands per second over ${sizes.many.idleMs / 1000} s with nothing sent, from MONITOR: the commands its connections sent and those their Lua scripts ran (which INFO's total_commands_processed counts too); detail.extra has that counter's rate over the same window, less the measuring INFO, which counts every client of the Redis; the profile by command and key pattern is in meta.notes. ` +
      'idle_rss_mb: VmRSS of the platform process at the end of that window. ' +
      'first_calls_all_ms: one sync POST /functions/:name/invoke per function, all sent at once (one connection each), from the first send until every one answered 200. ' +
      `docker_start_all_ms: the mean of two runs, just before the platform started and after it stopped (detail.extra has both), each starting as many containers of the runtime image the platform resolves, created and started ${sizes.many.engineConcurrency} at a time (as the pool does: it asks the engine for FAAS_START_CONCURRENCY = 8 starts at once, the engine being slowest with everything at once: 200 at once took it 150 s here) through the pool's own DockerDriver with a function container's profile (no network, read-only root, 64 MiB noexec tmpfs, 128 MiB, 1 CPU, 128 pids, init, no capabilities, no-new-privileges, capped logs, socket mount), labelled faas.bench=<run> and removed after. Ratio: first_calls_all_ms / docker_start_all_ms. aim_*_max: issue #17's aims`,
    memory:
      'VmRSS of the platform process idle (at rest, 20 s after its warm containers were ready: its idle collection and the V8 memory reducer have run) and its peak during the throughput runs; docker stats memory of idle warm containers',
  };
}
