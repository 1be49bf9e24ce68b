import { Redis } from 'ioredis';
import { connectCluster } from '../../queue/redis.js';
import { isClusterUrl } from '../../queue/redis-url.js';
import { BaseConsumer } from './base.js';
import { entryTime, redisIdentity, streamFields } from './record.js';

/** Entries read per call at most. */
const MAX_BATCH = 100;
/** How long a read blocks for new entries. */
const BLOCK_MS = 1000;
/**
 * An entry delivered to a consumer and not acknowledged for this long is taken over by another:
 * its process died. Longer than an enqueue takes (5 s at most), so live work is rarely taken; a
 * taken entry that was still being queued is queued twice, and the job id makes that a no-op.
 */
export const CLAIM_IDLE_MS = 10_000;
/** How often pending entries of dead consumers are looked for. */
const CLAIM_EVERY_MS = 2000;

/** How long a consumer with nothing pending may stay idle before it is removed from the group. */
export const STALE_CONSUMER_MS = 3_600_000;
/** How often the group is tidied. */
const TIDY_EVERY_MS = 60_000;

/**
 * Consumers to remove from a group: each process consumes under its own name, so a restarted
 * one leaves its old name behind. Only names with nothing pending (their entries were claimed)
 * and idle for an hour go. Reads `XINFO CONSUMERS`' reply (flat field lists). Pure.
 * @example staleConsumers([['name', 'old', 'pending', 0, 'idle', 7200000]], 'me') // ['old']
 */
export function staleConsumers(info: unknown[][], self: string, idleMs = STALE_CONSUMER_MS): string[] {
  return info.flatMap((fields) => {
    const f: Record<string, unknown> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[String(fields[i])] = fields[i + 1];
    const name = String(f.name);
    return name !== self && Number(f.pending) === 0 && Number(f.idle) > idleMs ? [name] : [];
  });
}

/** The consumer group of one function on a stream: every function sees every entry. */
export function groupNameFor(fn: string): string {
  return `faas.${fn}`;
}

type Entry = [id: string, fields: string[]];

/**
 * Consumes a Redis stream through a consumer group (created with MKSTREAM at `0`, so entries
 * already in the stream are run once too), one consumer per process. An entry is acknowledged
 * (XACK) once its invocation is queued. Entries of a consumer that died are claimed after
 * {@link CLAIM_IDLE_MS}. Reads only while the function's backlog is under `maxBacklog`.
 */
export class RedisStreamConsumer extends BaseConsumer {
  private redis?: Redis;
  private lastClaim = 0;
  private lastTidy = 0;

  protected async open(): Promise<void> {
    const once = {
      lazyConnect: true,
      // Fail at once while down: the loop below waits with backoff, entries stay pending.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    };
    // A stream on a Redis Cluster: one key, so every command goes to the node holding it (an
    // ioredis Cluster follows MOVED for the commands whose key it cannot see).
    const redis = isClusterUrl(this.opts.url)
      ? (connectCluster(this.opts.url, once, {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: () => null,
        }) as unknown as Redis)
      : new Redis(this.opts.url, once);
    redis.on('error', () => undefined);
    this.redis = redis;
    redis.once('end', () => {
      if (this.redis === redis) this.lost(new Error(`connection to ${redisLabel(this.opts.url)} closed`));
    });
    await redis.connect();
    const { fn, trigger } = this.opts;
    try {
      await redis.xgroup('CREATE', trigger.name, groupNameFor(fn), '0', 'MKSTREAM');
      this.log.info({ group: groupNameFor(fn) }, 'created the consumer group');
    } catch (err) {
      if (!(err as Error).message.startsWith('BUSYGROUP')) throw err;
    }
    this.connected();
    void this.loop(redis);
  }

  protected async close(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    redis?.disconnect();
  }

  private async loop(redis: Redis): Promise<void> {
    const { fn, trigger, consumer } = this.opts;
    const group = groupNameFor(fn);
    // Entries this consumer name was given before and never acknowledged come first.
    let cursor = '0';
    while (this.running && this.redis === redis) {
      let reserved = 0;
      try {
        reserved = await this.gate.reserve(MAX_BATCH);
        this.paused = reserved === 0;
        if (reserved === 0) {
          await sleep(250);
          continue;
        }
        if (Date.now() - this.lastTidy > TIDY_EVERY_MS) {
          this.lastTidy = Date.now();
          const info = (await redis.call('XINFO', 'CONSUMERS', trigger.name, group)) as unknown[][];
          for (const name of staleConsumers(info, consumer)) {
            await redis.xgroup('DELCONSUMER', trigger.name, group, name);
          }
        }
        let entries: Entry[] = [];
        let receiveCount = 2;
        if (Date.now() - this.lastClaim > CLAIM_EVERY_MS) {
          this.lastClaim = Date.now();
          const claimed = (await redis.xautoclaim(
            trigger.name,
            group,
            consumer,
            CLAIM_IDLE_MS,
            '0-0',
            'COUNT',
            reserved,
          )) as [string, Entry[]];
          entries = claimed[1].filter(Boolean);
        }
        if (entries.length === 0) {
          const block = cursor === '>' ? ['BLOCK', BLOCK_MS] : [];
          const res = (await redis.call(
            'XREADGROUP',
            'GROUP',
            group,
            consumer,
            'COUNT',
            reserved,
            ...block,
            'STREAMS',
            trigger.name,
            cursor,
          )) as Array<[string, Entry[]]> | null;
          entries = res?.[0]?.[1] ?? [];
          receiveCount = cursor === '>' ? 1 : 2;
          if (cursor !== '>' && entries.length === 0) cursor = '>';
        }
        this.gate.release(reserved - entries.length);
        reserved = 0;
        await this.take(redis, entries, receiveCount);
      } catch (err) {
        this.gate.release(reserved);
        if (this.redis !== redis) return;
        if (redis.status !== 'ready') return this.lost(err as Error);
        this.log.warn({ err: (err as Error).message }, 'stream read failed; trying again');
        await sleep(500);
      }
    }
  }

  private async take(redis: Redis, entries: Entry[], receiveCount: number): Promise<void> {
    const { fn, trigger } = this.opts;
    const now = Date.now();
    const acked = await Promise.all(
      entries.map(async ([id, fields]) => {
        // A claimed entry that was deleted from the stream meanwhile has no fields.
        const { body, attributes } = streamFields(fields ?? []);
        const queued = await this.deliver({
          broker: 'redis',
          name: trigger.name,
          identity: redisIdentity(id),
          body,
          receiveCount,
          sentAt: entryTime(id) ?? now,
          receivedAt: now,
          attributes,
        });
        return queued ? id : undefined;
      }),
    );
    const ids = acked.filter((id): id is string => id !== undefined);
    // Not acknowledged when the stream's Redis is down: the entries stay pending and are read again.
    if (ids.length) await redis.xack(trigger.name, groupNameFor(fn), ...ids).catch(() => 0);
  }
}

/** A Redis URL without its password, for logs. */
function redisLabel(url: string): string {
  if (isClusterUrl(url)) return url.replace(/^[^:]+:\/\/([^@]*@)?/, 'cluster ');
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'redis';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
