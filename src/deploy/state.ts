import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { VersionRecord, VersionRegistry } from './versions.js';

/** How a process's view changed: functions that appeared, got another version, or went away. */
export interface DeployChange {
  epoch: number;
  added: VersionRecord[];
  changed: Array<{ from: VersionRecord; to: VersionRecord }>;
  removed: VersionRecord[];
}

/** Compares two views of the current versions (pure). */
export function diffVersions(
  before: ReadonlyMap<string, VersionRecord>,
  after: ReadonlyMap<string, VersionRecord>,
): Omit<DeployChange, 'epoch'> {
  const added: VersionRecord[] = [];
  const changed: Array<{ from: VersionRecord; to: VersionRecord }> = [];
  const removed: VersionRecord[] = [];
  for (const [name, to] of after) {
    const from = before.get(name);
    if (!from) added.push(to);
    else if (from.version !== to.version) changed.push({ from, to });
  }
  for (const [name, from] of before) if (!after.has(name)) removed.push(from);
  return { added, changed, removed };
}

/** How often the epoch is read besides the change channel: a missed message costs at most this. */
const SAFETY_POLL_MS = 1000;

/**
 * One process's view of the current version of every function: the one owner of deploy state
 * that every role reads. It follows the registry's change channel and, as a safety net, reads
 * the epoch once a second; each change is read whole (one atomic read) and emitted once, in
 * order, as `change`.
 * @example const state = await DeployState.start(registry, subscriber); state.on('change', apply);
 */
export class DeployState extends EventEmitter<{ change: [DeployChange]; error: [Error] }> {
  private current = new Map<string, VersionRecord>();
  private epoch = -1;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private again = false;
  private closed = false;

  private constructor(
    private readonly registry: VersionRegistry,
    private readonly subscriber: Redis,
  ) {
    super();
  }

  /** Reads the current versions, then follows changes. `subscriber` becomes a pub/sub connection. */
  static async start(registry: VersionRegistry, subscriber: Redis): Promise<DeployState> {
    const state = new DeployState(registry, subscriber);
    // Subscribed first and read after: a change published in between is caught by the re-read
    // below (the epoch tells whether there was one). A failing first read fails the start.
    await subscriber.subscribe(registry.channel);
    await state.load();
    subscriber.on('message', (channel: string) => {
      if (channel === registry.channel) void state.refresh();
    });
    void state.refresh();
    state.timer = setInterval(() => state.poll(), SAFETY_POLL_MS);
    state.timer.unref();
    return state;
  }

  /** The current version of every function. */
  versions(): ReadonlyMap<string, VersionRecord> {
    return this.current;
  }

  get(name: string): VersionRecord | undefined {
    return this.current.get(name);
  }

  /** Re-reads now (after this process deployed, so that its answer reflects the deploy). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          await this.load();
        } catch (err) {
          this.report(err as Error);
        }
      } while (this.again && !this.closed);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private poll(): void {
    void this.registry.epoch().then(
      (epoch) => {
        if (epoch !== this.epoch) void this.refresh();
      },
      (err: Error) => this.report(err),
    );
  }

  /** Failures go to 'error' listeners; an emitter without one would throw them instead. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async load(): Promise<void> {
    const { epoch, versions } = await this.registry.current();
    if (this.closed || epoch === this.epoch) return;
    const diff = diffVersions(this.current, versions);
    this.current = versions;
    this.epoch = epoch;
    if (diff.added.length || diff.changed.length || diff.removed.length)
      this.emit('change', { epoch, ...diff });
  }
}
