/**
 * `GET /status` lists the cluster's worker hosts from their heartbeats: each with its capacity
 * and containers; a host killed with SIGKILL is marked down and stays listed, one stopped on
 * purpose leaves the list. Real processes (`faas api`, two `faas worker`) on one Redis.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../src/pool/hosts.js';
import {
  keyedManifest,
  manifestDir,
  shortName,
  startFaas,
  stopAll,
  type FaasProcess,
} from '../faults/lib/processes.js';
import { containersOf } from '../faults/lib/services.js';
import { until } from '../faults/lib/wait.js';
import { requireDocker } from '../helpers/services.js';

async function hosts(url: string): Promise<Host[]> {
  const res = await fetch(`${url}/status`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { hosts: Host[] }).hosts;
}

describe('hosts in GET /status', () => {
  const procs: FaasProcess[] = [];
  let dir: string;
  let api: FaasProcess;
  let small: FaasProcess;
  let large: FaasProcess;

  beforeAll(async () => {
    const fn = shortName('hosts');
    dir = await manifestDir(keyedManifest(fn, { out: shortName('hosts-out') }));
    api = await startFaas('api', dir);
    procs.push(api);
    [small, large] = await Promise.all([
      startFaas('worker', dir, { FAAS_MAX_CONTAINERS: '3', FAAS_PREWARM: '1' }),
      startFaas('worker', dir, { FAAS_MAX_CONTAINERS: '5' }),
    ]);
    procs.push(small, large);
  }, 120_000);

  afterAll(async () => {
    await stopAll(procs);
    // The killed host's warm container: no host of this cluster is left to sweep it.
    const docker = await requireDocker();
    for (const c of await containersOf(procs.map((p) => p.instance)))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 90_000);

  it('shows each worker host with its capacity and containers', async () => {
    await until('both hosts listed, the small one with its warm container', async () => {
      const h = await hosts(api.url as string);
      return h.length === 2 && (h.find((x) => x.id === small.instance)?.containers ?? 0) >= 1;
    });
    const byId = new Map((await hosts(api.url as string)).map((h) => [h.id, h]));
    expect(byId.get(small.instance)).toMatchObject({ capacity: 3, up: true });
    expect(byId.get(large.instance)).toMatchObject({ capacity: 5, containers: 0, up: true });
    expect(Date.now() - (byId.get(large.instance)?.lastHeartbeat ?? 0)).toBeLessThan(5_000);
  }, 60_000);

  it('marks a killed host down and keeps it listed; a stopped one leaves', async () => {
    small.signal('SIGKILL');
    const killedAt = Date.now();
    await small.exited;
    await until(
      'the killed host to be marked down',
      async () => (await hosts(api.url as string)).find((h) => h.id === small.instance)?.up === false,
      30_000,
    );
    const downAfter = Date.now() - killedAt;
    console.log(`[hosts] a killed host was marked down after ${(downAfter / 1000).toFixed(1)} s`);
    expect(downAfter).toBeLessThan(15_000);
    expect(await large.stop()).toBe(0);
    const left = await hosts(api.url as string);
    expect(left.map((h) => [h.id, h.up])).toEqual([[small.instance, false]]);
  }, 60_000);
});
