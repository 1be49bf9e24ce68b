import type { Redis } from 'ioredis';
import type { WireError } from '../runtime/protocol.js';
import type { LogLine } from '../worker/invoke.js';
import { encodeEntry, INDEX_CAP, indexable, indexKey } from './invocation-index.js';
import { evalScript, luaScript } from './lua.js';
import { functionOfInvocation, queueKeyPrefix, queueName, usingClusterKeys } from './names.js';

export type InvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** What `GET /invocations/:id` answers. */
export interface InvocationRecord {
  id: string;
  function: string;
  /** The function's version that ran the last attempt (absent when no container ran it). */
  version?: number;
  status: InvocationStatus;
  result?: unknown;
  error?: { kind: WireError['kind']; message: string; name?: string; stack?: string };
  logs: LogLine[];
  attempts: number;
  cold: boolean;
  /** The container's first invocation came from the pre-warmed generic set (no container created). */
  prewarmed?: boolean;
  /** The container that ran the last attempt. */
  container?: string;
  timings: {
    enqueuedAt: number;
    /** When a worker took the job from the queue (the lease starts here). */
    pickedAt?: number;
    startedAt?: number;
    finishedAt?: number;
    /** From accepted to handed to a container. */
    queueWaitMs?: number;
    /** Waiting for a container slot (a cold start included). */
    leaseMs?: number;
    durationMs?: number;
  };
  source: 'bucket' | 'webhook' | 'invoke' | 'queue' | 'schedule';
  /** Failed attempts before this one, newest last. */
  history?: Array<{ attempt: number; error: InvocationRecord['error']; finishedAt: number }>;
}

/**
 * Where each invocation's record lives: this prefix and its id; on a cluster the prefix, its
 * function's queue hash tag and its id (`faas:inv:{fn.<name>}:<id>`), in the slot of the job's
 * lock and the function's index, which the PUT script touches with it.
 */
const RECORD_KEY_PREFIX = 'faas:inv:';
/**
 * The key of an invocation's record.
 * @example recordKey(id) // 'faas:inv:<id>', or 'faas:inv:{fn.<name>}:<id>' on a cluster
 */
export const recordKey = (id: string): string => {
  const fn = usingClusterKeys() ? functionOfInvocation(id) : undefined;
  return fn ? `${RECORD_KEY_PREFIX}${queueName(fn)}:${id}` : `${RECORD_KEY_PREFIX}${id}`;
};

/**
 * Pub/sub channel told the id of every invocation that a caller waits for (a sync invoke or
 * webhook) when it reached a final outcome (succeeded, or failed for good): sync callers on any
 * API process wait on this one channel. Async invocations are not announced: nobody waits for
 * them (a sync caller that joins one through its idempotency key finds its record by polling).
 */
export const RESULTS_CHANNEL = 'faas:results';

/** Records up to this size travel with their announcement (`<id>\n<record JSON>`); larger ones are read. */
export const ANNOUNCED_RECORD_BYTES = 16 * 1024;

/**
 * Writes a record, and for a final outcome its entry in the function's index (see
 * invocation-index.ts), in one round trip: KEYS = lock (or '' for none), record, index;
 * ARGV = lock token, record JSON, TTL seconds, finished-at ms, index member ('' to skip), cap, id,
 * '1' to announce the outcome on the results channel.
 * The index is trimmed to the cap and to the TTL, and expires with its newest record.
 */
const PUT = luaScript(`
if KEYS[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[6]) - 1)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[3]) * 1000))
  redis.call('EXPIRE', KEYS[3], ARGV[3])
  -- A final outcome: tell the processes waiting for it (one channel for every function), with
  -- the record itself when it is small, so that the waiter need not read it back.
  if ARGV[8] == '1' then
    if #ARGV[2] <= ${ANNOUNCED_RECORD_BYTES} then
      redis.call('PUBLISH', '${RESULTS_CHANNEL}', ARGV[7] .. '\\n' .. ARGV[2])
    else
      redis.call('PUBLISH', '${RESULTS_CHANNEL}', ARGV[7])
    end
  end
end
return 1`);

/**
 * The property that marks a record carried in BullMQ's completion of its job: an async invocation
 * that succeeded returns `{ 'faas:record': record }` to BullMQ, which stores it as the job's
 * `returnvalue` in the same script that completes the job. No write of its own, no script of its
 * own: the record lives, and expires, with its job (the TTL, or the newest 100,000 finished jobs
 * of the function, whichever is shorter). Read through get() and getMany() like any record.
 */
export const CARRIED = 'faas:record';

/** The values carried() made in this process: a handler's look-alike is never one of them. */
const made = new WeakSet<object>();

/** What a worker returns to BullMQ for a record it carries in the job's completion. */
export function carried(record: InvocationRecord): { [CARRIED]: InvocationRecord } {
  const value = { [CARRIED]: record };
  made.add(value);
  return value;
}

/**
 * The record in a value carried() made in this process (BullMQ hands the processor's own return
 * value to its 'completed' listeners); undefined for anything else, such as a handler's result
 * shaped like one.
 */
export function carriedBy(value: unknown): InvocationRecord | undefined {
  return value && typeof value === 'object' && made.has(value)
    ? (value as { [CARRIED]: InvocationRecord })[CARRIED]
    : undefined;
}

/** Whether a value has the shape of a carried record (see {@link carried}). */
export function looksCarried(value: unknown): boolean {
  return !!value && typeof value === 'object' && Object.hasOwn(value, CARRIED);
}

/**
 * The record carried in job `id`'s stored return value (its JSON), if that is one. A handler's
 * own result is never stored in that shape (see the worker), and a record names its own job.
 */
function fromReturnValue(raw: string | null | undefined, id: string): InvocationRecord | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown> | null;
    const r = v && typeof v === 'object' ? v[CARRIED] : undefined;
    return r && typeof r === 'object' && (r as InvocationRecord).id === id
      ? (r as InvocationRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The hash of an invocation's BullMQ job (undefined for an id that names no function). */
function jobKey(id: string): string | undefined {
  const fn = functionOfInvocation(id);
  return fn ? `${queueKeyPrefix(fn)}:${id}` : undefined;
}

/** Keys read by one MGET in getMany. */
const MGET_CHUNK = 500;

/** Hears of a final record this process announces, as its write is sent to Redis. */
export type FinalListener = (record: InvocationRecord) => void;

/** Invocation records in Redis, kept for `ttlSeconds` after their last change. */
export class RecordStore {
  private readonly finals = new Set<FinalListener>();
  /** Index entries of carried records waiting for the end of this turn, per index key. */
  private readonly unindexed = new Map<string, { entries: Array<string | number>; newest: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Hears of every final record this process writes with an announcement, as soon as the write
   * is sent: a caller waiting in this same process is answered without waiting for Redis
   * (callers elsewhere hear it on the results channel once Redis holds it).
   *
   * The answer does not wait for the write's reply. A write refused because the job's lock
   * lapsed (another worker now runs the job again) has still answered its local caller with
   * this run's outcome, which really happened; the record then holds the new owner's outcome.
   * A write that fails (Redis gone) has answered too; the job runs again once Redis is back, as
   * any job whose end was not recorded does.
   * @returns a function that stops listening
   */
  onFinal(listener: FinalListener): () => void {
    this.finals.add(listener);
    return () => this.finals.delete(listener);
  }

  /** `announce`: a caller waits for this invocation (see {@link RESULTS_CHANNEL}). */
  async put(record: InvocationRecord, announce = true): Promise<void> {
    await this.write(record, '', '', announce);
  }

  /**
   * Writes the record only while `lockKey` still holds `token`: a worker whose job lock lapsed
   * (and whose job another worker now runs) cannot overwrite the new owner's record.
   * @returns false when the lock is no longer ours.
   */
  async putIfOwner(
    record: InvocationRecord,
    lockKey: string,
    token: string,
    announce = true,
  ): Promise<boolean> {
    return this.write(record, lockKey, token, announce);
  }

  private async write(
    record: InvocationRecord,
    lockKey: string,
    token: string,
    announce: boolean,
  ): Promise<boolean> {
    const args = [
      lockKey,
      recordKey(record.id),
      indexKey(record.function),
      token,
      JSON.stringify(record),
      String(this.ttlSeconds),
      String(record.timings.finishedAt ?? Date.now()),
      indexable(record) ? encodeEntry(record) : '',
      String(INDEX_CAP),
      record.id,
      announce ? '1' : '0',
    ];
    // By its text, not its hash: a worker sends BullMQ's completion right behind the record, and
    // a retry after NOSCRIPT (Redis restarted) would write the record after the completion.
    const sent = evalScript(this.redis, PUT, 3, ...args);
    // The record is on its way to Redis (its bytes are written before any reply can be): a
    // caller in this process is answered now rather than a Redis round trip later.
    if (announce && indexable(record)) for (const listener of this.finals) listener(record);
    return (await sent) === 1;
  }

  /**
   * Enters a record carried in its job's completion (see {@link CARRIED}) in its function's
   * index, once BullMQ has completed the job. The entries of one turn of the event loop go
   * together at its end: per function one ZADD of them all, the trims and the expiry, as plain
   * commands on the shared connection (no script, no reply awaited).
   */
  index(record: InvocationRecord): void {
    const key = indexKey(record.function);
    const at = record.timings.finishedAt ?? Date.now();
    const batch = this.unindexed.get(key) ?? { entries: [] as Array<string | number>, newest: 0 };
    batch.entries.push(at, encodeEntry(record));
    batch.newest = Math.max(batch.newest, at);
    this.unindexed.set(key, batch);
    if (batch.entries.length === 2 && this.unindexed.size === 1) {
      // The turn's first entry: the batch goes out in the check phase after this turn.
      setImmediate(() => this.flushIndex());
    }
  }

  private flushIndex(): void {
    const ignore = () => undefined;
    for (const [key, { entries, newest }] of this.unindexed) {
      this.redis.zadd(key, ...entries).catch(ignore);
      this.redis.zremrangebyrank(key, 0, -INDEX_CAP - 1).catch(ignore);
      this.redis.zremrangebyscore(key, '-inf', `(${newest - this.ttlSeconds * 1000}`).catch(ignore);
      this.redis.expire(key, this.ttlSeconds).catch(ignore);
    }
    this.unindexed.clear();
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const raw = await this.redis.get(recordKey(id));
    if (raw) return JSON.parse(raw) as InvocationRecord;
    return this.carriedRecord(id);
  }

  /** A record carried in its job's completion, read from the job's hash. */
  private async carriedRecord(id: string): Promise<InvocationRecord | undefined> {
    const key = jobKey(id);
    return key ? fromReturnValue(await this.redis.hget(key, 'returnvalue'), id) : undefined;
  }

  /**
   * The records of many invocations, in the order of `ids` (undefined for each that has none):
   * one MGET per 500 ids on a single Redis; on a cluster, whose keys of different functions live
   * on different nodes, one GET each, sent together.
   */
  async getMany(ids: readonly string[]): Promise<Array<InvocationRecord | undefined>> {
    // One record that cannot be read costs only its own answer, not the others'.
    const parse = (raw: string | null): InvocationRecord | undefined => {
      try {
        return raw ? (JSON.parse(raw) as InvocationRecord) : undefined;
      } catch {
        return undefined;
      }
    };
    // A record that is not under its own key may be carried in its job's completion.
    const orCarried = async (id: string, r: InvocationRecord | undefined) =>
      r ?? (await this.carriedRecord(id).catch(() => undefined));
    if (usingClusterKeys()) {
      return Promise.all(ids.map(async (id) => orCarried(id, parse(await this.redis.get(recordKey(id))))));
    }
    const out: Array<InvocationRecord | undefined> = [];
    for (let i = 0; i < ids.length; i += MGET_CHUNK) {
      const chunk = ids.slice(i, i + MGET_CHUNK);
      const raw = await this.redis.mget(chunk.map(recordKey));
      out.push(...(await Promise.all(chunk.map((id, k) => orCarried(id, parse(raw[k] ?? null))))));
    }
    return out;
  }
}
