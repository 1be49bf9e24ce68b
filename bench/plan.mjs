/**
 * What the benchmark runs: sizes (full or `--quick`) and the manifests of its platforms. Every
 * function name starts with the run id, so queues, records and containers of a run are its own.
 */

/**
 * @typedef {object} Sizes
 * @property {number} reps repetitions of every figure
 * @property {{ warmup: number, count: number }} warm sequential sync invokes per repetition
 * @property {number} trace invokes traced for the warm-path breakdown
 * @property {{ total: number, warmup: number, concurrency: number, raw: number }} throughput
 * @property {number} backlog async invokes of the scaling scenario
 * @property {{ trickle: number, sustained: number, concurrency: number }} bucket
 * @property {{ small: number, large: number, warmup: number }} s3 GetObject reads of the 1 KB and
 *   10 MB objects per repetition, on each side
 * @property {{ functions: number, settleMs: number, idleMs: number, engineConcurrency: number }} many
 *   functions of the many-functions platform (`--functions N` overrides), how long it settles
 *   after start, the idle window of the commands count, and how many container starts the
 *   engine reference runs at once
 */

/** @type {Sizes} */
export const FULL = {
  reps: 5,
  warm: { warmup: 50, count: 200 },
  trace: 100,
  throughput: { total: 10_000, warmup: 1000, concurrency: 64, raw: 10_000 },
  backlog: 200,
  bucket: { trickle: 30, sustained: 500, concurrency: 16 },
  s3: { small: 200, large: 10, warmup: 20 },
  many: { functions: 200, settleMs: 5000, idleMs: 10_000, engineConcurrency: 8 },
};

/** Every scenario once, small: a smoke test that each completes, never a timing. */
/** @type {Sizes} */
export const QUICK = {
  reps: 1,
  warm: { warmup: 5, count: 20 },
  trace: 10,
  throughput: { total: 300, warmup: 100, concurrency: 64, raw: 1000 },
  backlog: 40,
  bucket: { trickle: 5, sustained: 20, concurrency: 8 },
  s3: { small: 20, large: 2, warmup: 5 },
  many: { functions: 50, settleMs: 2000, idleMs: 3000, engineConcurrency: 8 },
};

const once = { attempts: 1 };

/**
 * Function names of one run.
 * @param {string} run
 * @param {number} reps
 */
export function names(run, reps) {
  const series = (/** @type {string} */ what) =>
    Array.from({ length: reps }, (_, i) => `${run}-${what}-${i + 1}`);
  return {
    noop: `${run}-noop`,
    trace: `${run}-trace`,
    prewarmed: series('pw'),
    fresh: series('cold'),
    tp: `${run}-tp`,
    // Its own function for the batched runs: one function's finished jobs are kept up to
    // KEEP_FINISHED_JOBS (100,000), and counting them is how a run sees its end.
    tpBatch: `${run}-tpb`,
    scale: `${run}-scale`,
    stamp: `${run}-stamp`,
    s3: `${run}-s3get`,
  };
}

/**
 * The platform with pre-warming on: warm invokes, breakdown, pre-warmed cold starts, scaling,
 * throughput, memory.
 * @param {ReturnType<typeof names>} n
 */
export function mainManifest(n) {
  /** @type {Record<string, object>} */
  const fns = {
    [n.noop]: { handler: 'noop/index.handler', scale: { min: 1, max: 1, idleTimeout: '30m' }, retry: once },
    [n.trace]: { handler: 'stamp/index.handler', scale: { min: 1, max: 1, idleTimeout: '30m' }, retry: once },
    // The throughput functions' containers outlive the time between their reps (the other side's
    // reps run in between): each rep measures the warm pool its warm-up started, as raw BullMQ's
    // reps measure a running worker. The start from zero is the scaling scenario's figure.
    [n.tp]: {
      handler: 'noop/index.handler',
      concurrency: 16,
      scale: { min: 0, max: 4, idleTimeout: '10m' },
      retry: once,
    },
    [n.tpBatch]: {
      handler: 'noop/index.handler',
      concurrency: 16,
      scale: { min: 0, max: 4, idleTimeout: '10m' },
      retry: once,
    },
    [n.scale]: {
      handler: 'sleep/index.handler',
      timeout: '10s',
      scale: { min: 0, max: 8, idleTimeout: '2s' },
      retry: once,
    },
  };
  for (const fn of n.prewarmed)
    fns[fn] = { handler: 'noop/index.handler', scale: { min: 0, max: 1, idleTimeout: '30m' }, retry: once };
  return fns;
}

/**
 * The platform without pre-warming: fresh cold starts.
 * @param {ReturnType<typeof names>} n
 */
export function freshManifest(n) {
  return Object.fromEntries(
    n.fresh.map((fn) => [
      fn,
      { handler: 'noop/index.handler', scale: { min: 0, max: 1, idleTimeout: '30m' }, retry: once },
    ]),
  );
}

/**
 * The platform that receives MinIO's bucket events.
 * @param {string} fn
 * @param {string} bucket
 */
export function bucketManifest(fn, bucket) {
  return {
    [fn]: {
      handler: 'stamp/index.handler',
      concurrency: 8,
      scale: { min: 2, max: 4, idleTimeout: '30m' },
      retry: once,
      triggers: [{ bucket }],
    },
  };
}

/**
 * The platform of the S3 endpoint scenario: one function reading the run's bucket.
 * @param {string} fn
 * @param {string} bucket
 */
export function s3Manifest(fn, bucket) {
  return {
    [fn]: {
      handler: 's3get/index.handler',
      timeout: '120s',
      memory: '256Mi',
      scale: { min: 1, max: 1, idleTimeout: '30m' },
      retry: once,
      storage: { read: [`${bucket}/obj/`] },
    },
  };
}

/**
 * Names of the many-functions platform's functions: `<run>-m0001` …
 * @param {string} run
 * @param {number} count
 */
export function manyNames(run, count) {
  return Array.from({ length: count }, (_, i) => `${run}-m${String(i + 1).padStart(4, '0')}`);
}

/**
 * The many-functions platform: every function a no-op with one webhook trigger, as rarely used
 * functions are. The timeout is long so that the sync wait (timeout + 5 s) outlasts the slowest of
 * the first calls sent all at once: the scenario measures how long they take, not a cut-off.
 * @param {string[]} fns
 */
export function manyManifest(fns) {
  return Object.fromEntries(
    fns.map((fn) => [
      fn,
      {
        handler: 'noop/index.handler',
        timeout: '120s',
        scale: { min: 0, max: 1, idleTimeout: '30m' },
        retry: once,
        triggers: [{ webhook: { path: `/hooks/${fn}`, method: 'POST' } }],
      },
    ]),
  );
}
