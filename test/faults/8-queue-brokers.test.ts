/**
 * Fault 8: queue triggers through faults, for RabbitMQ, NATS JetStream and Redis Streams at
 * once. The brokers are the test's own, on their own ports (restarting them disturbs nobody);
 * each function consumes from one. Publishers retry until the broker stored a message, as real
 * ones do. In every case each message runs exactly once in effect:
 * (a) the consumer process (`faas api`) killed with SIGKILL mid-stream and started again: what it
 *     held unacknowledged is redelivered (RabbitMQ at once; JetStream after the ack wait; a Redis
 *     consumer's pending entries are claimed by the new process);
 * (b) each broker restarted mid-stream: consumers reconnect with backoff;
 * (c) the platform's Redis (also the test's own; a 3-master cluster when REDIS_URL names one)
 *     restarted mid-stream: nothing is acknowledged while jobs cannot be queued, and consuming
 *     resumes when it returns;
 * (d) the whole platform (`faas up`) killed with SIGKILL mid-stream and started again: invocations
 *     in flight run again (reported as reruns), every message's effect exactly once.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import type { Broker } from '../../src/triggers/queue/record.js';
import { isClusterUrl } from '../../src/queue/redis-url.js';
import {
  ownNats,
  ownRabbit,
  ownRedis,
  ownRedisCluster,
  publisher,
  type OwnBroker,
} from '../helpers/brokers.js';
import { freePort } from '../helpers/platform.js';
import { config, requireRedis } from '../helpers/services.js';
import {
  deadLetters,
  inputKeys,
  queueManifest,
  readEffect,
  report,
  scenario,
  seconds,
  shortName,
  sleep,
  startFaas,
  stopAll,
  until,
  FAST_TAKEOVER_ENV,
  type Effect,
  type FaasProcess,
} from './harness.js';

const N = 200;
const BROKERS: Broker[] = ['amqp', 'nats', 'redis'];
const URL_VARS: Record<Broker, string> = {
  amqp: 'TEST_AMQP_URL',
  nats: 'TEST_NATS_URL',
  redis: 'TEST_STREAM_URL',
};

interface Stream {
  published: number;
  done: Promise<void>;
}

/** Publishes `keys` one by one (each retried until stored), paced, and counts them. */
function publishAll(broker: Broker, url: string, name: string, keys: string[], gapMs: number): Stream {
  const s: Stream = { published: 0, done: Promise.resolve() };
  s.done = (async () => {
    const pub = await publisher(broker, url, name);
    for (const k of keys) {
      await pub.publish(k, k);
      s.published++;
      await sleep(gapMs);
    }
    await pub.close();
  })();
  return s;
}

/** Waits until every key has its output and no execution happened for a moment. */
async function outputsOf(s3: S3Client, bucket: string, prefix: string, n: number): Promise<Effect> {
  const deadline = Date.now() + 150_000;
  let last: Effect | undefined;
  for (;;) {
    const e = await readEffect(s3, bucket, prefix).catch(() => undefined);
    if (e && e.outputs.length >= n && last && e.executions === last.executions) return e;
    if (e) last = e;
    if (Date.now() > deadline) return e ?? (await readEffect(s3, bucket, prefix));
    await sleep(1000);
  }
}

describe('fault 8: queue triggers through a killed consumer, broker restarts and a Redis restart', () => {
  const out = shortName('fault8-out');
  const fns = Object.fromEntries(BROKERS.map((b) => [b, shortName(`q8${b}`)])) as Record<Broker, string>;
  const names = Object.fromEntries(BROKERS.map((b) => [b, `fault8-${fns[b]}`])) as Record<Broker, string>;
  const brokers = {} as Record<Broker, OwnBroker>;
  let platformRedis: OwnBroker;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faas-fault8-'));
    const amqpPort = await freePort();
    let distPort = await freePort();
    while (distPort === amqpPort) distPort = await freePort();
    brokers.amqp = await ownRabbit(amqpPort, distPort, join(dataDir, 'rabbit'));
    brokers.nats = ownNats(await freePort(), join(dataDir, 'nats'));
    brokers.redis = ownRedis(await freePort(), dataDir);
    await mkdir(join(dataDir, 'platform-redis'));
    // The platform's Redis is of the kind REDIS_URL names: one server, or a 3-master cluster.
    if (isClusterUrl(config.REDIS_URL)) {
      const ports = new Set<number>();
      while (ports.size < 6) ports.add(await freePort());
      const [a, b, c, ...bus] = [...ports] as [number, number, number, ...number[]];
      platformRedis = ownRedisCluster([a, b, c], bus, join(dataDir, 'platform-redis'));
    } else {
      platformRedis = ownRedis(await freePort(), join(dataDir, 'platform-redis'));
    }
    await Promise.all([...Object.values(brokers).map((b) => b.start()), platformRedis.start()]);
  }, 150_000);

  const sc = scenario({
    fns: Object.values(fns),
    buckets: [out],
    manifest: () =>
      queueManifest(
        BROKERS.map((b) => ({ fn: fns[b], broker: b, name: names[b], urlVar: URL_VARS[b] })),
        { out },
      ),
  });
  // Registered after the scenario's hooks, so it runs first (afterAll hooks run in reverse): the
  // brokers of the test's own stop even when an earlier cleanup step fails.
  afterAll(async () => {
    await Promise.allSettled([...Object.values(brokers).map((b) => b.stop()), platformRedis?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 90_000);
  const env = () => Object.fromEntries(BROKERS.map((b) => [URL_VARS[b], brokers[b].url]));

  /**
   * Publishes N messages per broker (keys `<broker>-<prefix>NNNN`); `fault` runs once each has a
   * third out; then `settle` reads what each broker's messages did.
   */
  async function run(
    prefix: string,
    fault: () => Promise<{ at: number; back: number; backOf?: Record<Broker, number> }>,
  ): Promise<{ keys: Record<Broker, string[]>; at: number; back: number; backOf?: Record<Broker, number> }> {
    const keys = Object.fromEntries(BROKERS.map((b) => [b, inputKeys(`${b}-${prefix}`, N)])) as Record<
      Broker,
      string[]
    >;
    const streams = BROKERS.map((b) => publishAll(b, brokers[b].url, names[b], keys[b], 10));
    await until(
      'a third published on every broker',
      () => streams.every((s) => s.published >= N / 3),
      60_000,
    );
    const times = await fault();
    await Promise.all(streams.map((s) => s.done));
    return { keys, ...times };
  }

  /** Checks and reports the effect of each broker's messages: all run, none twice, no dead letters. */
  async function expectOnce(
    label: string,
    url: string,
    r: Awaited<ReturnType<typeof run>>,
    reruns: 'none' | 'allowed' = 'none',
  ): Promise<void> {
    for (const b of BROKERS) {
      const effect = await outputsOf(sc.s3, out, `${b}-`, r.keys[b].length + alreadyDone[b]);
      const mine = effect.outputs.filter((k) => r.keys[b].includes(k));
      const dead = await deadLetters(url, fns[b]);
      const back = r.backOf?.[b] ?? r.back;
      report(`8${label} ${b}`, {
        N,
        outage: seconds(r.at, back),
        // From the process or broker being back to the last output (S3 times are whole seconds).
        recovery: seconds(back, effect.lastOutputAt),
        outputs: mine.length,
        executions: effect.executions - alreadyRun[b],
        duplicates: effect.duplicates,
        deadLetters: dead.length,
      });
      expect(mine, `${b}: every message ran`).toEqual(r.keys[b]);
      if (reruns === 'none') expect(effect.duplicates, `${b}: no message ran twice`).toBe(0);
      expect(dead).toEqual([]);
      alreadyDone[b] = effect.outputs.length;
      alreadyRun[b] = effect.executions;
    }
  }
  const alreadyDone = { amqp: 0, nats: 0, redis: 0 } as Record<Broker, number>;
  const alreadyRun = { amqp: 0, nats: 0, redis: 0 } as Record<Broker, number>;

  let worker: FaasProcess;
  let api: FaasProcess;

  it('(a) the consumer process killed with SIGKILL mid-stream', async () => {
    [worker, api] = await Promise.all([
      startFaas('worker', sc.dir, { ...env(), ...FAST_TAKEOVER_ENV }),
      startFaas('api', sc.dir, env()),
    ]);
    sc.procs.push(worker, api);
    const r = await run('a-', async () => {
      api.signal('SIGKILL');
      const at = Date.now();
      await api.exited;
      api = await startFaas('api', sc.dir, env());
      sc.procs.push(api);
      return { at, back: api.readyAt };
    });
    await expectOnce('a consumer SIGKILL', api.url as string, r);
  }, 300_000);

  it('(b) every broker restarted mid-stream', async () => {
    let health = '';
    const r = await run('b-', async () => {
      const at = Date.now();
      await Promise.all(BROKERS.map((b) => brokers[b].stop()));
      // /healthz (no token) names the broker kinds that are down, never the functions.
      await until(
        '/healthz to report the brokers down',
        async () => {
          const res = await fetch(`${api.url}/healthz`);
          const body = (await res.json()) as { checks: { queues?: { error?: string } } };
          health = `${res.status} ${body.checks.queues?.error ?? ''}`;
          return BROKERS.every((b) => health.includes(b));
        },
        15_000,
      );
      const backOf = {} as Record<Broker, number>;
      await Promise.all(BROKERS.map(async (b) => (await brokers[b].start(), (backOf[b] = Date.now()))));
      return { at, back: Date.now(), backOf };
    });
    report('8b /healthz while the brokers were down', { answer: JSON.stringify(health) });
    expect(health).toMatch(/^503 queue consumers disconnected: 1 amqp, 1 nats, 1 redis; see \/status$/);
    for (const fn of Object.values(fns)) expect(health).not.toContain(fn);
    await expectOnce('b broker restart', api.url as string, r);
    await stopAll([api, worker]);
  }, 300_000);

  // Only the consumers (`faas api`) run on the test's Redis: a worker there would take every
  // other platform's containers on this engine for leftovers (their heartbeats are in the shared
  // Redis). The effect checked is the queue itself: one job per message, none missing.
  it("(c) the platform's Redis restarted mid-stream: one job per message, none lost", async () => {
    const consumers = await startFaas('api', sc.dir, { ...env(), REDIS_URL: platformRedis.url });
    sc.procs.push(consumers);
    const r = await run('c-', async () => {
      await platformRedis.stop();
      const at = Date.now();
      await sleep(4000);
      await platformRedis.start();
      return { at, back: Date.now() };
    });
    const redis = await requireRedis(platformRedis.url);
    const queues = BROKERS.map(
      (b) => new Queue(queueName(fns[b]), { connection: redis, prefix: QUEUE_PREFIX }),
    );
    /** The message bodies of each broker's jobs in this scenario. */
    const bodies = async () =>
      Promise.all(
        queues.map(async (q) =>
          (await q.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed'], 0, -1))
            .map((j) => (j.data as { record: { body: string } }).record.body)
            .filter((k) => k.includes('-c-')),
        ),
      );
    try {
      const allAt = {} as Record<Broker, number>;
      await until(
        'all messages queued',
        async () => {
          const now = await bodies();
          for (const [i, b] of BROKERS.entries()) if (now[i]!.length >= N) allAt[b] ??= Date.now();
          return BROKERS.every((b) => allAt[b]);
        },
        120_000,
      ).catch(() => undefined);
      await sleep(2000); // anything queued twice would show now
      const final = await bodies();
      for (const [i, b] of BROKERS.entries()) {
        const mine = final[i]!;
        report(`8c platform Redis restart ${b}`, {
          N,
          outage: seconds(r.at, r.back),
          recovery: allAt[b] ? seconds(r.back, allAt[b]) : 'never',
          jobs: mine.length,
          distinct: new Set(mine).size,
        });
        expect([...new Set(mine)].sort(), `${b}: every message queued`).toEqual(r.keys[b]);
        expect(mine.length, `${b}: no message queued twice`).toBe(N);
      }
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      redis.disconnect();
    }
    // Its consumers would compete with the next scenario's for the same queues.
    await stopAll([consumers]);
  }, 300_000);

  // The whole platform in one process killed: its worker's invocations in flight die with it and
  // run again once their locks lapse (the effect is keyed, so still once in effect), and what
  // its consumers held unacknowledged is redelivered to the process that replaces it.
  it('(d) `faas up` killed with SIGKILL mid-stream', async () => {
    const first = await startFaas('up', sc.dir, { ...env(), ...FAST_TAKEOVER_ENV });
    sc.procs.push(first);
    let second: FaasProcess | undefined;
    const r = await run('d-', async () => {
      first.signal('SIGKILL');
      const at = Date.now();
      await first.exited;
      second = await startFaas('up', sc.dir, { ...env(), ...FAST_TAKEOVER_ENV });
      sc.procs.push(second);
      return { at, back: second.readyAt };
    });
    await expectOnce('d faas up SIGKILL', second!.url as string, r, 'allowed');
  }, 300_000);
});
