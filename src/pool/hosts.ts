/**
 * The worker hosts of a cluster, as `GET /status` and `faas status` list them: each host (a
 * process running workers and a pool) beats its capacity and container count into Redis; a host
 * that stops beating is shown down, and stays listed for a while so that its loss is seen.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { usingClusterKeys } from '../queue/names.js';

/** One worker host as status shows it. */
export interface Host {
  /** The platform instance (FAAS_INSTANCE). */
  id: string;
  /** Function containers it may run at once (FAAS_MAX_CONTAINERS). */
  capacity: number;
  /** Containers it holds now, generic ones included. */
  containers: number;
  /** When it last beat (ms since epoch). */
  lastHeartbeat: number;
  /** False once it has not beaten for `DOWN_AFTER_MS`. */
  up: boolean;
  /**
   * False while it beats but cannot run anything (its Docker engine does not answer); it takes
   * no jobs then. Absent from hosts of an older version.
   */
  healthy?: boolean;
  /** Why it is unhealthy. */
  problem?: string;
}

/** What a host publishes with each beat. */
export interface HostReport {
  capacity: number;
  containers: number;
  healthy?: boolean;
  problem?: string;
}

const BEAT_EVERY_MS = 2000;
/** Several missed beats: the same 10 s after which the reaper takes a host's containers for leftovers. */
export const DOWN_AFTER_MS = 10_000;
/** How long a host that stopped beating stays listed (as down). */
export const FORGET_AFTER_MS = 15 * 60_000;

// On a Redis Cluster the list and every host's report share the slot of `{hosts.<cluster>}`
// (written in one MULTI, read with one MGET).
const tagged = (cluster: string) => (usingClusterKeys() ? `{hosts.${cluster}}` : cluster);
const listKey = (cluster: string) => `faas:hosts:${tagged(cluster)}`;
const hostKey = (cluster: string, id: string) => `faas:host:${tagged(cluster)}:${id}`;

/**
 * The hosts as status shows them, from their last reports; pure (the time is given). Sorted by
 * id; hosts silent for longer than `FORGET_AFTER_MS` are left out.
 * @example hostsView([{ id: 'w1', capacity: 8, containers: 2, lastHeartbeat: t }], t + 12_000) // [{ ..., up: false }]
 */
export function hostsView(reports: Array<Omit<Host, 'up'>>, now: number): Host[] {
  return reports
    .filter((r) => now - r.lastHeartbeat <= FORGET_AFTER_MS)
    .map((r) => ({ ...r, up: now - r.lastHeartbeat <= DOWN_AFTER_MS }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Publishes this host's report every 2 s until stopped; a host that stops on purpose leaves the
 * list, one that dies is shown down.
 * @example const beacon = new HostBeacon(redis, 'faas', instance, () => ({ capacity: pool.hostCap, containers: pool.snapshot().length }), log);
 */
export class HostBeacon {
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly cluster: string,
    private readonly id: string,
    private readonly report: () => HostReport,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((err: Error) => this.failed(err)), BEAT_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis
      .multi()
      .zrem(listKey(this.cluster), this.id)
      .del(hostKey(this.cluster, this.id))
      .exec()
      .catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    const value: Omit<Host, 'up'> = { id: this.id, ...this.report(), lastHeartbeat: now };
    await this.redis
      .multi()
      .set(hostKey(this.cluster, this.id), JSON.stringify(value), 'PX', FORGET_AFTER_MS)
      .zadd(listKey(this.cluster), now, this.id)
      .exec();
    this.failing = false;
  }

  /** Logged once per outage: the reaper already reports every missed heartbeat. */
  private failed(err: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn({ component: 'hosts', err: err.message }, 'could not publish this host to status');
  }
}

/** The cluster's hosts, live and recently down. */
export async function readHosts(redis: Redis, cluster: string, now = Date.now()): Promise<Host[]> {
  await redis.zremrangebyscore(listKey(cluster), '-inf', `(${now - FORGET_AFTER_MS}`);
  const ids = await redis.zrange(listKey(cluster), 0, -1);
  const values = ids.length ? await redis.mget(...ids.map((id) => hostKey(cluster, id))) : [];
  const reports: Array<Omit<Host, 'up'>> = [];
  for (const raw of values) {
    try {
      const r = JSON.parse(raw ?? 'null') as Omit<Host, 'up'> | null;
      if (r && typeof r.id === 'string' && typeof r.lastHeartbeat === 'number') reports.push(r);
    } catch {
      // not a report of this version: leave it out
    }
  }
  return hostsView(reports, now);
}
