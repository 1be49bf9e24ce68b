import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { slotted, usingClusterKeys } from '../queue/names.js';
import {
  DEFAULT_CLUSTER,
  LABEL_CLUSTER,
  LABEL_INSTANCE,
  LABEL_PLATFORM,
  type ContainerDriver,
} from './driver.js';

const HEARTBEAT_TTL_S = 10;
/** Beats often: the heartbeat also carries the pool snapshot `faas status` shows. */
const HEARTBEAT_EVERY_MS = 1000;
const SWEEP_EVERY_BEATS = 5;
// On a Redis Cluster the heartbeats and their registry share the slot of `{instances}` (read
// with one MGET): `faas:instance:{instances}:<instance>`, `faas:{instances}`.
/** The key of a platform instance's heartbeat. */
export const heartbeatKey = (instance: string): string =>
  usingClusterKeys() ? `faas:instance:${slotted('instances')}:${instance}` : `faas:instance:${instance}`;
/**
 * Every instance's name, scored by its last heartbeat: readers find the live ones without
 * scanning the keyspace (which grows with every job kept). The heartbeat key stays the truth.
 */
const registry = () => `faas:${slotted('instances')}`;

/** What the reaper reports besides its log lines (counted in /metrics). */
export interface ReaperEvents {
  /** A heartbeat that could not be written. */
  missedHeartbeat(): void;
  /** A sweep, or the removal of one container, that failed. */
  failure(op: 'sweep' | 'remove'): void;
}

/**
 * Keeps this platform instance's heartbeat in Redis and removes containers whose instance has
 * none: what a platform left behind when it was killed (kill -9, power loss) is found by label
 * and removed by whichever platform of its cluster starts or sweeps next. Containers of another
 * cluster are never touched: their instances beat in a Redis this one may not see.
 */
export class Reaper {
  private timer?: NodeJS.Timeout;
  private beats = 0;
  /** When the last heartbeat was written: past HEARTBEAT_TTL_S, other platforms may sweep ours. */
  private lastBeat = Date.now();
  private expiredWarned = false;

  constructor(
    private readonly redis: Redis,
    private readonly driver: ContainerDriver,
    private readonly instance: string,
    private readonly logger: Logger,
    /** What this instance publishes with its heartbeat (its pool, for `faas status`). */
    private readonly snapshot: () => unknown = () => null,
    private readonly events: ReaperEvents = { missedHeartbeat: () => undefined, failure: () => undefined },
    /** The cluster label of this platform's containers (the pool's `cluster`). */
    private readonly cluster: string = DEFAULT_CLUSTER,
  ) {}

  /** The labels of every container of this cluster. */
  private get ours(): Record<string, string> {
    return { [LABEL_PLATFORM]: 'faas', [LABEL_CLUSTER]: this.cluster };
  }

  /** Beats once, sweeps once, then beats and sweeps every few seconds. */
  async start(): Promise<number> {
    // A process restarted under the same FAAS_INSTANCE inherits nothing: what an earlier process
    // of that name left is removed before this one's pool starts a container.
    const own = await this.driver.list({ ...this.ours, [LABEL_INSTANCE]: this.instance });
    await Promise.all(own.map((c) => this.remove(c.id)));
    await this.beat();
    const removed = own.length + (await this.sweep());
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_EVERY_MS);
    this.timer.unref();
    return removed;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.del(heartbeatKey(this.instance)).catch(() => undefined);
    await this.redis.zrem(registry(), this.instance).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const value = JSON.stringify({ pid: process.pid, at: Date.now(), pool: this.snapshot() });
    await this.redis.set(heartbeatKey(this.instance), value, 'EX', HEARTBEAT_TTL_S);
    await this.redis.zadd(registry(), Date.now(), this.instance);
    if (this.expiredWarned)
      this.logger.warn({ component: 'reaper' }, 'heartbeat written again after it had expired');
    this.lastBeat = Date.now();
    this.expiredWarned = false;
  }

  /** One timer tick: beat, and sweep every few beats. Never rejects: failures are logged and counted. */
  private async tick(): Promise<void> {
    const sweep = ++this.beats % SWEEP_EVERY_BEATS === 0;
    try {
      await this.beat();
    } catch (err) {
      this.events.missedHeartbeat();
      const sinceMs = Date.now() - this.lastBeat;
      const expired = sinceMs > HEARTBEAT_TTL_S * 1000;
      if (expired && !this.expiredWarned) {
        this.expiredWarned = true;
        this.logger.error(
          { component: 'reaper', err: (err as Error).message, sinceMs },
          "heartbeat expired: other platforms sharing this Docker engine may now remove this instance's containers",
        );
      } else if (!expired) {
        this.logger.warn({ component: 'reaper', err: (err as Error).message, sinceMs }, 'heartbeat missed');
      }
      return;
    }
    if (!sweep) return;
    try {
      await this.sweep();
    } catch (err) {
      this.events.failure('sweep');
      this.logger.warn(
        { component: 'reaper', err: (err as Error).message },
        'sweep for leftover containers failed',
      );
    }
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.driver.remove(id);
    } catch (err) {
      this.events.failure('remove');
      this.logger.warn(
        { component: 'reaper', container: id.slice(0, 12), err: (err as Error).message },
        'could not remove a leftover container; the next sweep tries again',
      );
    }
  }

  /** Removes containers of this cluster's instances without a heartbeat; returns how many. */
  async sweep(): Promise<number> {
    const found = await this.driver.list(this.ours);
    const instances = [...new Set(found.map((c) => c.labels[LABEL_INSTANCE] ?? ''))].filter(
      (i) => i !== this.instance,
    );
    const alive = new Set<string>();
    for (const i of instances) if (i && (await this.redis.exists(heartbeatKey(i)))) alive.add(i);
    const orphans = found.filter((c) => {
      const i = c.labels[LABEL_INSTANCE] ?? '';
      return i !== this.instance && !alive.has(i);
    });
    await Promise.all(orphans.map((c) => this.remove(c.id)));
    if (orphans.length)
      this.logger.info(
        { component: 'reaper', removed: orphans.length },
        'removed containers left by stopped platforms',
      );
    return orphans.length;
  }
}

/** The heartbeats of every live platform instance, with what each published. */
export async function liveInstances(
  redis: Redis,
): Promise<Array<{ instance: string; pid: number; pool: unknown }>> {
  const out: Array<{ instance: string; pid: number; pool: unknown }> = [];
  const since = Date.now() - HEARTBEAT_TTL_S * 1000;
  // Names whose heartbeat is older than its TTL are gone: forget them.
  await redis.zremrangebyscore(registry(), '-inf', `(${since}`);
  const names = await redis.zrangebyscore(registry(), since, '+inf');
  const values = names.length ? await redis.mget(...names.map(heartbeatKey)) : [];
  names.forEach((instance, i) => {
    try {
      const v = JSON.parse(values[i] ?? 'null') as { pid: number; pool: unknown } | null;
      if (v) out.push({ instance, pid: v.pid, pool: v.pool });
    } catch {
      // an older or foreign value: not ours to read
    }
  });
  return out;
}
