import type { Redis } from 'ioredis';
import { RESULTS_CHANNEL, type InvocationRecord, type RecordStore } from './records.js';

/** Announcements that found no caller waiting, kept this many (newest) for a caller about to. */
const RECENT = 128;

/**
 * How often the records of the callers still waiting are read, as a safety net under the results
 * channel (an announcement lost while its connection was away); a caller is first read this long
 * after it began to wait.
 */
const POLL_MS = 1000;

interface Pending {
  resolve: (r: InvocationRecord | undefined) => void;
  timer: NodeJS.Timeout;
  /** When the caller began to wait. */
  since: number;
}

/**
 * Waits for invocations to finish, for synchronous callers. Listens on one pub/sub channel that
 * every final record is announced on (see records.ts), so it works whichever host's worker ran
 * the job, with one connection however many functions there are.
 */
export class ResultWaiter {
  private subscriber?: Redis;
  private ready?: Promise<void>;
  private readonly pending = new Map<string, Pending[]>();
  /**
   * Announced final records no caller waited for yet, newest last: the announcement can be read
   * before the enqueue's answer that tells the caller its id (both sockets ready at once).
   */
  private readonly recent = new Map<string, string | undefined>();
  private readonly unlisten: () => void;
  /** Reads the records of every caller waiting, once a POLL_MS, while any waits. */
  private poller?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly connectionFactory: () => Redis,
    private readonly records: RecordStore,
    /** Told of failures no caller awaits (a record read after a notification, a listener error). */
    private readonly onError: (err: Error, context: string) => void = () => undefined,
  ) {
    // A job run by this process's own worker answers its caller here at once; the announcement
    // through Redis then finds no one waiting.
    this.unlisten = records.onFinal((record) => {
      if (this.pending.has(record.id))
        void this.settle(record.id, record).catch((err: Error) => this.onError(err, `settling ${record.id}`));
    });
  }

  /**
   * Subscribes to the results channel (once, for every function); resolves once subscribed. The
   * platform calls it at start, so a first sync call never races the subscription.
   */
  watch(_fn?: string): Promise<void> {
    if (!this.ready) {
      const sub = this.connectionFactory();
      this.subscriber = sub;
      sub.on('error', (err: Error) => this.onError(err, 'listening for results'));
      sub.on('message', (_channel: string, message: string) => {
        const cut = message.indexOf('\n');
        const id = cut < 0 ? message : message.slice(0, cut);
        // A small record comes with its announcement: no read back.
        const json = cut < 0 ? undefined : message.slice(cut + 1);
        if (!this.pending.has(id)) {
          this.remember(id, json);
          return;
        }
        void this.settle(id, json === undefined ? undefined : parseRecord(json)).catch((err: Error) =>
          this.onError(err, `reading the record of ${id}`),
        );
      });
      // ioredis subscribes again by itself after a reconnect; the record poll in wait() covers
      // what is announced while it is away.
      this.ready = sub.subscribe(RESULTS_CHANNEL).then(() => undefined);
    }
    return this.ready;
  }

  /**
   * Resolves with the finished record, or undefined when `timeoutMs` passes first. Unless the id
   * is `fresh` (made for this call: it cannot have finished before it was queued), the record is
   * read once at once, so a job that finished earlier (an idempotency key's) answers at once.
   */
  async wait(
    fn: string,
    id: string,
    timeoutMs: number,
    o: { fresh?: boolean } = {},
  ): Promise<InvocationRecord | undefined> {
    // Registered before anything is awaited: a worker in this process answers at once.
    let mine: Pending | undefined;
    const done = new Promise<InvocationRecord | undefined>((resolve) => {
      const timer = setTimeout(() => this.drop(id, resolve), timeoutMs);
      mine = { resolve, timer, since: Date.now() };
      this.pending.set(id, [...(this.pending.get(id) ?? []), mine]);
    });
    this.poller ??= setInterval(() => void this.poll(), POLL_MS);
    try {
      await this.watch(fn);
    } catch (err) {
      clearTimeout(mine!.timer);
      this.drop(id, mine!.resolve);
      throw err;
    }
    const check = async () => {
      const now = await this.records.get(id).catch(() => undefined);
      if (now && (now.status === 'succeeded' || now.status === 'failed'))
        void this.settle(id, now).catch((err: Error) => this.onError(err, `settling ${id}`));
    };
    if (this.recent.has(id)) {
      const json = this.recent.get(id);
      void this.settle(id, json === undefined ? undefined : parseRecord(json)).catch((err: Error) =>
        this.onError(err, `settling ${id}`),
      );
    } else if (!o.fresh) await check();
    return done;
  }

  /**
   * The safety net under the results channel: an announcement lost in a reconnect still answers
   * its callers. One read for every caller that has waited a POLL_MS or more (one MGET on a single
   * Redis), not one per caller: a burst of first calls to many functions waits many seconds.
   */
  private async poll(): Promise<void> {
    if (this.pending.size === 0) {
      clearInterval(this.poller);
      this.poller = undefined;
      return;
    }
    if (this.polling) return;
    const due = Date.now() - POLL_MS + 50;
    const ids = [...this.pending].filter(([, list]) => list.some((p) => p.since <= due)).map(([id]) => id);
    if (ids.length === 0) return;
    this.polling = true;
    try {
      const records = await this.records.getMany(ids);
      records.forEach((record, i) => {
        if (record && (record.status === 'succeeded' || record.status === 'failed'))
          void this.settle(ids[i] as string, record);
      });
    } catch {
      // Redis is away: the next round reads again.
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    this.unlisten();
    clearInterval(this.poller);
    this.poller = undefined;
    for (const list of this.pending.values()) {
      for (const p of list) {
        clearTimeout(p.timer);
        p.resolve(undefined);
      }
    }
    this.pending.clear();
    this.recent.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  private remember(id: string, json: string | undefined): void {
    this.recent.set(id, json);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  private drop(id: string, resolve: Pending['resolve']): void {
    const list = (this.pending.get(id) ?? []).filter((p) => p.resolve !== resolve);
    if (list.length) this.pending.set(id, list);
    else this.pending.delete(id);
    resolve(undefined);
  }

  private async settle(id: string, known?: InvocationRecord): Promise<void> {
    if (!this.pending.has(id)) return;
    const record = known ?? (await this.records.get(id));
    if (!record || (record.status !== 'succeeded' && record.status !== 'failed')) return;
    const list = this.pending.get(id) ?? [];
    this.pending.delete(id);
    for (const p of list) {
      clearTimeout(p.timer);
      p.resolve(record);
    }
  }
}

/** A record as announced; undefined when it cannot be read (it is then read from Redis). */
function parseRecord(json: string): InvocationRecord | undefined {
  try {
    const r = JSON.parse(json) as InvocationRecord;
    return r && typeof r === 'object' && typeof r.id === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}
