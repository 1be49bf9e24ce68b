/**
 * Backlog-driven scaling on the real engine: `faas up` as its own process, jobs through the HTTP
 * API, containers counted through the Docker API by their labels.
 */
import { Queue } from 'bullmq';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { clusterOf, eventually, startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(docker: Docker, instance: string, fn?: string): Promise<number> {
  const label = [`faas.instance=${instance}`, ...(fn ? [`faas.function=${fn}`] : [])];
  return (await docker.listContainers({ all: true, filters: { label } })).length;
}

/** Posts `n` async invocations, 50 at a time. */
async function post(url: string, fn: string, n: number, body = '{}'): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () =>
      fetch(`${url}/functions/${fn}/invoke?async=1`, { method: 'POST', body }).then((r) => {
        if (r.status !== 202) throw new Error(`invoke answered ${r.status}`);
      }),
    );
    await Promise.all(batch);
  }
}

const manifest = (fns: string) => `version: 1\nfunctions:\n${fns}`;
const sleeper = (name: string, extra = '') =>
  `  ${name}:\n    handler: sleeper/index.handler\n    retry: { attempts: 1 }\n    scale: { min: 0, max: 8, idleTimeout: 3s }\n${extra}`;

describe('autoscaling', () => {
  it('500 jobs, max 8, 200 ms each: up to 8, drained, back to 0 after the idle timeout', async () => {
    const docker = await requireDocker();
    const redis = await requireRedis();
    const p = await startPlatformProcess(manifest(sleeper('burst')), ['sleeper']);
    const queue = new Queue(queueName('burst'), { connection: redis, prefix: QUEUE_PREFIX });
    try {
      const t0 = Date.now();
      const timeline: Record<string, number> = {};
      let peak = 0;
      const sampler = (async () => {
        while (!('zero' in timeline)) {
          const n = await count(docker, p.instance, 'burst');
          peak = Math.max(peak, n);
          if (n > 0 && !('first' in timeline)) timeline.first = Date.now() - t0;
          if (n >= 8 && !('max' in timeline)) timeline.max = Date.now() - t0;
          if ('drained' in timeline && n === 0) timeline.zero = Date.now() - t0;
          if (Date.now() - t0 > 120_000) break;
          await sleep(50);
        }
      })();
      await post(p.url, 'burst', 500, '{"ms":200}');
      await eventually(
        'the backlog to drain',
        async () => {
          const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed');
          return (c.completed ?? 0) + (c.failed ?? 0) >= 500 && !c.waiting && !c.active ? c : undefined;
        },
        120_000,
      );
      timeline.drained = Date.now() - t0;
      await sampler;
      console.log(
        `scaling timeline (ms from first enqueue): first container ${timeline.first}, 8 containers ${timeline.max}, ` +
          `backlog drained ${timeline.drained}, back to 0 ${timeline.zero}`,
      );
      expect(peak).toBe(8);
      expect(timeline.max).toBeDefined();
      expect(timeline.zero).toBeDefined();
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      redis.disconnect();
      expect(await p.stop()).toBe(0);
    }
  }, 180_000);

  it('two functions bursting under a smaller host cap both make progress from the start', async () => {
    const docker = await requireDocker();
    const redis = await requireRedis();
    const p = await startPlatformProcess(manifest(sleeper('left') + sleeper('right')), ['sleeper'], {
      FAAS_MAX_CONTAINERS: '4',
    });
    const queues = ['left', 'right'].map(
      (fn) => new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX }),
    );
    try {
      const t0 = Date.now();
      await Promise.all([post(p.url, 'left', 100, '{"ms":200}'), post(p.url, 'right', 100, '{"ms":200}')]);
      // Within the first seconds, both have finished work; neither waits for the other to drain.
      const progress = await eventually(
        'both functions to complete jobs',
        async () => {
          const done = await Promise.all(
            queues.map(async (q) => (await q.getJobCounts('completed')).completed),
          );
          return done.every((d) => (d ?? 0) >= 5) ? done : undefined;
        },
        10_000,
      );
      const elapsed = Date.now() - t0;
      console.log(
        `host cap 4, two bursts of 100: after ${elapsed} ms completed left=${progress[0]} right=${progress[1]}`,
      );
      const remaining = await Promise.all(queues.map(async (q) => (await q.getJobCounts('waiting')).waiting));
      expect(remaining.every((r) => (r ?? 0) > 0)).toBe(true);
      expect(await count(docker, p.instance)).toBeLessThanOrEqual(4);
    } finally {
      for (const q of queues) {
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
      redis.disconnect();
      expect(await p.stop()).toBe(0);
    }
  }, 120_000);

  it('scale-down from 8 to 2 under steady load fails no invocation', async () => {
    const docker = await requireDocker();
    const redis = await requireRedis();
    const p = await startPlatformProcess(manifest(sleeper('steady')), ['sleeper']);
    const queue = new Queue(queueName('steady'), { connection: redis, prefix: QUEUE_PREFIX });
    try {
      await post(p.url, 'steady', 160, '{"ms":200}');
      await eventually(
        '8 containers',
        async () => ((await count(docker, p.instance, 'steady')) >= 8 ? true : undefined),
        30_000,
      );
      // Steady load of about 8 jobs/s at 200 ms each needs about 2 containers.
      let low = 8;
      const until = Date.now() + 14_000;
      while (Date.now() < until) {
        await post(p.url, 'steady', 2, '{"ms":200}');
        low = Math.min(low, await count(docker, p.instance, 'steady'));
        await sleep(250);
      }
      await eventually(
        'the queue to empty',
        async () => {
          const c = await queue.getJobCounts('waiting', 'active');
          return !c.waiting && !c.active ? true : undefined;
        },
        30_000,
      );
      const c = await queue.getJobCounts('completed', 'failed');
      console.log(
        `steady load: pool went from 8 down to ${low}; completed ${c.completed}, failed ${c.failed}`,
      );
      expect(low).toBeLessThanOrEqual(3);
      expect(c.failed).toBe(0);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      redis.disconnect();
      expect(await p.stop()).toBe(0);
    }
  }, 120_000);

  it('a never-called function is served by a pre-warmed container: no docker create on its first call', async () => {
    const docker = await requireDocker();
    const p = await startPlatformProcess(manifest(sleeper('fresh')), ['sleeper'], { FAAS_PREWARM: '1' });
    try {
      // Ready, not merely created: the platform reports it warm once its runtime has said hello.
      // This process's own (its /metrics): /status counts the warm containers of every instance
      // on the Redis, and another platform sharing it may have one.
      await eventually('a warm generic container', async () => {
        const text = await (await fetch(`${p.url}/metrics`)).text();
        const warm = text
          .split('\n')
          .filter(
            (l) =>
              l.startsWith('faas_containers{') && l.includes('function=""') && l.includes('state="warm"'),
          )
          .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
        return warm >= 1 ? true : undefined;
      });
      const before = Math.floor(Date.now() / 1000);
      const res = await fetch(`${p.url}/functions/fresh/invoke`, { method: 'POST', body: '{"ms":1}' });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-faas-invocation-id');
      const rec = (await (await fetch(`${p.url}/invocations/${id}`)).json()) as {
        cold: boolean;
        prewarmed: boolean;
        container: string;
      };
      expect(rec).toMatchObject({ cold: true, prewarmed: true });
      expect(rec.container).toMatch(/-generic-/);
      const info = await docker.getContainer(rec.container).inspect();
      expect(Math.floor(new Date(info.Created).getTime() / 1000)).toBeLessThanOrEqual(before);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 60_000);

  it('after kill -9 with 10 containers running, a restart removes them within 30 s', async () => {
    const docker = await requireDocker();
    const fns = sleeper('held', '').replace('min: 0', 'min: 10').replace('max: 8', 'max: 10');
    const first = await startPlatformProcess(manifest(fns), ['sleeper']);
    await eventually(
      '10 containers',
      async () => ((await count(docker, first.instance)) >= 10 ? true : undefined),
      60_000,
    );
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    expect(await count(docker, first.instance)).toBe(10);
    const t0 = Date.now();
    // The restart is of the same cluster: a platform sweeps its own cluster's leftovers only.
    const second = await startPlatformProcess(manifest(sleeper('other')), ['sleeper'], {
      FAAS_CLUSTER: clusterOf(first.dir),
    });
    try {
      await eventually(
        'the leftovers to be removed',
        async () => ((await count(docker, first.instance)) === 0 ? true : undefined),
        30_000,
      );
      console.log(`leftovers of a killed platform removed ${Date.now() - t0} ms after the restart began`);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 120_000);
});
