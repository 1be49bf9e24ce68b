/**
 * Many functions on one platform (200 by default, `--functions N`), each with one webhook trigger:
 * what they cost at rest (Redis connections, Redis commands per second, RSS), how long the first
 * call of all of them at once takes, and the Docker engine's own time to start as many containers
 * with the pool's profile, measured in the same run once the platform has stopped.
 */
import { now, sleep, waitFor } from '../lib/clock.mjs';
import { startPlatform } from '../lib/platform.mjs';
import { clientsOf, connectionProfile } from '../lib/redis-clients.mjs';
import { manyManifest, manyNames } from '../plan.mjs';
import { engineStarts } from '../scenarios/engine-starts.mjs';
import { firstCallsAtOnce } from '../scenarios/first-calls.mjs';
import { idleCommandsPerS, monitorProfile } from '../scenarios/idle-redis.mjs';

const S = 'many_functions';

/**
 * @param {import('./main.mjs').Ctx} ctx
 * @param {number} count functions
 */
export async function manyPhase(ctx, count) {
  const { sizes, figures, extra, notes, log } = ctx;
  const m = sizes.many;
  const fns = manyNames(ctx.run, count);
  const fnPattern = new RegExp(`${ctx.run}-m\\d{4}`, 'g');
  /** Function names, job ids and counters become placeholders, so that keys group by shape. */
  const generalize = (/** @type {string} */ s) =>
    s
      .replace(fnPattern, '<fn>')
      .replace(/[0-9a-f]{16,}/g, '<id>')
      .replace(/\b\d+\b/g, '<n>');
  figures.add(S, 'functions', count);

  const before = await engineReference(ctx, count, 'before');
  log(`many functions: starting a platform with ${count} functions (FAAS_MAX_CONTAINERS=${count + 8})`);
  const t0 = now();
  /** @type {Error | undefined} */
  let failedCalls;
  const p = await startPlatform({
    instance: `${ctx.run}-many`,
    functions: manyManifest(fns),
    prewarm: 1,
    env: {
      // Room for a container per function (the default cap is at most 64), and no per-source
      // limits: every call comes from 127.0.0.1 at once.
      FAAS_MAX_CONTAINERS: String(count + 8),
      FAAS_RATE_LIMIT: '1000000',
      FAAS_MAX_CONNECTIONS_PER_SOURCE: String(count + 256),
    },
  });
  try {
    await waitFor(
      'the generic container',
      async () => (((await p.containers('')).generic ?? 0) >= 1 ? true : undefined),
      { timeoutMs: 120_000 },
    );
    extra.add(S, 'platform_ready_s', (now() - t0) / 1000);
    await sleep(m.settleMs);

    const clients = await clientsOf(ctx.redis, p.pid);
    figures.add(S, 'redis_connections', clients.length);
    notes.many_functions_connections = connectionProfile(clients, generalize);

    // One quiet window, watched two ways: INFO's counter counts every client of this Redis
    // (other processes' too), MONITOR keeps only the platform's connections and their scripts.
    log(`many functions: ${m.idleMs / 1000} s idle, under MONITOR`);
    const [allClients, prof] = await Promise.all([
      idleCommandsPerS(ctx.redis, m.idleMs),
      monitorProfile(ctx.redis, p.pid, m.idleMs, generalize),
    ]);
    figures.add(S, 'idle_redis_commands_per_s', prof.platformOnly);
    extra.add(S, 'idle_redis_commands_per_s_all_clients', allClients);
    notes.many_functions_idle_profile = prof;
    figures.add(S, 'idle_rss_mb', await p.rssMb());

    log(`many functions: the first call of all ${count} at once`);
    const first = await firstCallsAtOnce(p.url, fns);
    figures.add(S, 'first_calls_all_ms', first.allMs);
    extra.add(S, 'first_calls_p50_ms', first.p50Ms);
    if (first.failed.length) {
      notes.many_functions_failed_calls = { count: first.failed.length, first: first.failed.slice(0, 5) };
      // Reported once the engine's figure is in too.
      failedCalls = new Error(`${first.failed.length} of ${count} first calls did not answer 200`);
    }
    extra.add(S, 'redis_connections_after_calls', (await clientsOf(ctx.redis, p.pid)).length);
    extra.add(S, 'rss_after_calls_mb', await p.rssMb());
  } catch (err) {
    notes.many_functions_platform_output = p.output().split('\n').slice(-40).join('\n');
    throw err;
  } finally {
    const s = await p.stop();
    if (s.leftovers) notes.many_leftover_containers = s.leftovers;
  }

  const after = await engineReference(ctx, count, 'after');
  // The reference is the mean of its runs just before and just after the platform's: on a shared
  // host the machine's speed drifts over minutes, and bracketing cancels a steady drift.
  figures.add(S, 'docker_start_all_ms', (before.startedMs + after.startedMs) / 2);
  extra.add(S, 'docker_start_all_before_ms', before.startedMs);
  extra.add(S, 'docker_start_all_after_ms', after.startedMs);
  extra.add(S, 'docker_start_all_connected_ms', (before.connectedMs + after.connectedMs) / 2);
  extra.add(S, 'docker_remove_all_ms', (before.removedMs + after.removedMs) / 2);
  notes.many_functions_engine_image = after.image;
  if (failedCalls) throw failedCalls;
}

/**
 * The Docker engine starting `count` containers with the pool's profile, as many at once as the
 * pool would (see engine-starts.mjs), then removing them.
 * @param {import('./main.mjs').Ctx} ctx
 * @param {number} count
 * @param {'before' | 'after'} when
 */
async function engineReference(ctx, count, when) {
  const m = ctx.sizes.many;
  ctx.log(
    `many functions: the engine starts ${count} containers, ${m.engineConcurrency} at a time (${when})`,
  );
  return engineStarts({
    concurrency: m.engineConcurrency,
    count,
    label: ['faas.bench', ctx.run],
    name: `faas-bench-${ctx.run}-engine-${when}`,
  });
}
