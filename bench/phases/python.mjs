/**
 * Python functions beside Node.js ones, in the same run: warm sync invokes of a Python and a
 * Node.js no-op on one platform (alternating repetitions), the first call of never-called Python
 * functions given a pre-warmed generic Python container (FAAS_PREWARM=1, all of it Python's: the
 * manifest's functions are mostly Python), and on a platform without pre-warming (a new container).
 */
import { waitFor } from '../lib/clock.mjs';
import { startPlatform } from '../lib/platform.mjs';
import { coldStarts } from '../scenarios/cold.mjs';
import { warmLatency } from '../scenarios/warm.mjs';

const once = { attempts: 1 };
const warmFn = (handler, runtime) => ({
  handler,
  runtime,
  scale: { min: 1, max: 1, idleTimeout: '30m' },
  retry: once,
});
const coldFn = {
  handler: 'py-noop/app.handler',
  runtime: 'python3.11',
  scale: { min: 0, max: 1, idleTimeout: '30m' },
  retry: once,
};

/**
 * The function names of the Python phase.
 * @param {string} run
 * @param {number} reps
 */
export function pythonNames(run, reps) {
  const series = (/** @type {string} */ what) =>
    Array.from({ length: reps }, (_, i) => `${run}-${what}-${i + 1}`);
  return {
    pyNoop: `${run}-pynoop`,
    nodeNoop: `${run}-pynode`,
    pyPrewarmed: series('pypw'),
    pyFresh: series('pycold'),
  };
}

/** @param {import('./main.mjs').Ctx} ctx */
export async function pythonPhase(ctx) {
  const { run, sizes, figures, extra, notes, log } = ctx;
  const n = pythonNames(run, sizes.reps);
  log('python platform (FAAS_PREWARM=1): starting');
  const fns = {
    [n.pyNoop]: warmFn('py-noop/app.handler', 'python3.11'),
    [n.nodeNoop]: warmFn('noop/index.handler', 'node20'),
    ...Object.fromEntries(n.pyPrewarmed.map((fn) => [fn, coldFn])),
  };
  const p = await startPlatform({
    instance: `${run}-python`,
    functions: fns,
    prewarm: 1,
    env: { FAAS_RATE_LIMIT: '1000000' },
  });
  try {
    await waitFor('the warm Python and Node.js containers', async () => {
      const [a, b] = await Promise.all([p.containers(n.pyNoop), p.containers(n.nodeNoop)]);
      return a.ready === 1 && b.ready === 1 ? true : undefined;
    });
    log(`python platform: ${sizes.reps} × ${sizes.warm.count} warm invokes of each runtime`);
    for (let i = 0; i < sizes.reps; i++) {
      const warm = i === 0 ? sizes.warm : { ...sizes.warm, warmup: 0 };
      const py = await warmLatency(p.url, n.pyNoop, warm);
      const node = await warmLatency(p.url, n.nodeNoop, warm);
      figures.add('warm_invoke', 'python_p50_ms', py.p50);
      figures.add('warm_invoke', 'python_p99_ms', py.p99);
      figures.add('warm_invoke', 'node_same_platform_p50_ms', node.p50);
    }
    log(`python platform: ${n.pyPrewarmed.length} pre-warmed cold starts`);
    const c = await coldStarts(p, n.pyPrewarmed, { prewarmed: true });
    figures.addAll('cold_start', 'python_prewarmed_ms', c.e2e);
    extra.addAll('cold_start', 'python_prewarmed_record_lease_plus_duration_ms', c.recordMs);
    if (c.mismatched.length) notes.python_prewarmed_not_counted_as_prewarmed = c.mismatched;
  } finally {
    const s = await p.stop();
    if (s.leftovers) notes.python_leftover_containers = s.leftovers;
  }

  log('python fresh platform (FAAS_PREWARM=0): starting');
  const f = await startPlatform({
    instance: `${run}-pyfresh`,
    functions: Object.fromEntries(n.pyFresh.map((fn) => [fn, coldFn])),
    prewarm: 0,
  });
  try {
    log(`python fresh platform: ${n.pyFresh.length} cold starts`);
    const c = await coldStarts(f, n.pyFresh, { prewarmed: false });
    figures.addAll('cold_start', 'python_fresh_ms', c.e2e);
    extra.addAll('cold_start', 'python_fresh_record_lease_plus_duration_ms', c.recordMs);
    if (c.mismatched.length) notes.python_fresh_not_counted_as_fresh = c.mismatched;
  } finally {
    const s = await f.stop();
    if (s.leftovers) notes.python_fresh_leftover_containers = s.leftovers;
  }
}

/**
 * Every function name of the phase, for the run's clean-up.
 * @param {string} run
 * @param {number} reps
 */
export function pythonQueues(run, reps) {
  const n = pythonNames(run, reps);
  return [n.pyNoop, n.nodeNoop, ...n.pyPrewarmed, ...n.pyFresh];
}
