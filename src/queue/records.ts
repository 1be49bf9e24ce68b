import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { WireError } from '../runtime/protocol.js';
import type { LogLine } from '../worker/invoke.js';

export type InvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** What `GET /invocations/:id` answers. */
export interface InvocationRecord {
  id: string;
  function: string;
  status: InvocationStatus;
  result?: unknown;
  error?: { kind: WireError['kind']; message: string; name?: string };
  logs: LogLine[];
  attempts: number;
  cold: boolean;
  /** The container's first invocation came from the pre-warmed generic set (no container created). */
  prewarmed?: boolean;
  /** The container that ran the last attempt. */
  container?: string;
  timings: {
    enqueuedAt: number;
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

const key = (id: string) => `faas:inv:${id}`;

const PUT_IF_OWNER =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1 end return 0";
const PUT_IF_OWNER_SHA = createHash('sha1').update(PUT_IF_OWNER).digest('hex');

/** Invocation records in Redis, kept for `ttlSeconds` after their last change. */
export class RecordStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async put(record: InvocationRecord): Promise<void> {
    await this.redis.set(key(record.id), JSON.stringify(record), 'EX', this.ttlSeconds);
  }

  /**
   * Writes the record only while `lockKey` still holds `token`: a worker whose job lock lapsed
   * (and whose job another worker now runs) cannot overwrite the new owner's record.
   * @returns false when the lock is no longer ours.
   */
  async putIfOwner(record: InvocationRecord, lockKey: string, token: string): Promise<boolean> {
    const args = [
      2,
      lockKey,
      key(record.id),
      token,
      JSON.stringify(record),
      String(this.ttlSeconds),
    ] as const;
    // Every job ends here: send the script's hash, and the script itself only when Redis lacks it.
    const written = await this.redis.evalsha(PUT_IF_OWNER_SHA, ...args).catch((err: Error) => {
      if (!err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(PUT_IF_OWNER, ...args);
    });
    return written === 1;
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const raw = await this.redis.get(key(id));
    return raw ? (JSON.parse(raw) as InvocationRecord) : undefined;
  }
}
