import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { LABEL_INSTANCE, LABEL_PLATFORM, type ContainerDriver } from './driver.js';

const HEARTBEAT_TTL_S = 10;
const HEARTBEAT_EVERY_MS = 5000;
const key = (instance: string) => `faas:instance:${instance}`;

/**
 * Keeps this platform instance's heartbeat in Redis and removes containers whose instance has
 * none: what a platform left behind when it was killed (kill -9, power loss) is found by label
 * and removed by whichever platform starts or sweeps next.
 */
export class Reaper {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly driver: ContainerDriver,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  /** Beats once, sweeps once, then beats and sweeps every few seconds. */
  async start(): Promise<number> {
    await this.beat();
    const removed = await this.sweep();
    this.timer = setInterval(() => {
      void this.beat()
        .then(() => this.sweep())
        .catch(() => undefined);
    }, HEARTBEAT_EVERY_MS);
    this.timer.unref();
    return removed;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.del(key(this.instance)).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.redis.set(key(this.instance), String(process.pid), 'EX', HEARTBEAT_TTL_S);
  }

  /** Removes containers of instances without a heartbeat; returns how many. */
  async sweep(): Promise<number> {
    const found = await this.driver.list({ [LABEL_PLATFORM]: 'faas' });
    const instances = [...new Set(found.map((c) => c.labels[LABEL_INSTANCE] ?? ''))].filter(
      (i) => i !== this.instance,
    );
    const alive = new Set<string>();
    for (const i of instances) if (i && (await this.redis.exists(key(i)))) alive.add(i);
    const orphans = found.filter((c) => {
      const i = c.labels[LABEL_INSTANCE] ?? '';
      return i !== this.instance && !alive.has(i);
    });
    await Promise.all(orphans.map((c) => this.driver.remove(c.id).catch(() => undefined)));
    if (orphans.length)
      this.logger.info(
        { component: 'reaper', removed: orphans.length },
        'removed containers left by stopped platforms',
      );
    return orphans.length;
  }
}
