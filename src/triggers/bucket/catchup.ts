import type { Redis } from 'ioredis';
import type { FunctionSpec } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import type { S3Record } from '../../queue/payload.js';
import type { ObjectInfo } from '../../runtime/protocol.js';
import { routeBucketRecord } from '../route.js';
import { listenPlan } from './plan.js';
import { bucketDedupKey, sequencerFromMs } from './record.js';

/** Objects modified this long before the checkpoint are listed again (clock skew, slow writes). */
const OVERLAP_MS = 30_000;
/** Most objects one catch-up round lists per prefix. */
const LIST_LIMIT = 100_000;

const checkpointKey = (bucket: string) => `faas:checkpoint:${bucket}`;

/** An S3 ETag of a multipart upload: the parts' digest, a dash, the number of parts. */
const MULTIPART_ETAG = /^"?[0-9a-f]{32}-\d+"?$/i;

/**
 * The event record a notification would have carried for a listed object (pure). A listing does
 * not say how an object was written: one whose ETag is a multipart upload's was completed as one
 * (`ObjectCreated:CompleteMultipartUpload`); any other is named `ObjectCreated:Put`, a server-side
 * copy included (its notification would have said `:Copy`).
 */
export function recordFromListing(bucket: string, o: ObjectInfo): S3Record {
  const modified = o.lastModified ? Date.parse(o.lastModified) : Date.now();
  return {
    eventVersion: '2.0',
    eventSource: 'faas:catch-up',
    awsRegion: '',
    eventTime: new Date(modified).toISOString(),
    eventName: MULTIPART_ETAG.test(o.etag ?? '')
      ? 'ObjectCreated:CompleteMultipartUpload'
      : 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: bucket },
      object: {
        key: o.key,
        size: o.size,
        eTag: o.etag?.replaceAll('"', ''),
        sequencer: sequencerFromMs(modified),
      },
    },
  };
}

/**
 * Finds uploads that no notification announced: lists the objects under each bucket trigger
 * modified since the bucket's checkpoint (kept in Redis) and enqueues them as ObjectCreated
 * events. Their job ids equal the ids their notifications would have had (see bucketDedupKey), so
 * an upload that was announced as well runs once. Runs after a listener (re)connects, on a
 * schedule, or as the only source for stores that send no notifications (the polling mode).
 * A bucket without a checkpoint starts at "now": enabling a trigger does not replay old objects.
 */
export class CatchUp {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly log: Logger;

  constructor(
    private readonly o: {
      redis: Redis;
      list: (bucket: string, prefix: string, limit: number) => Promise<ObjectInfo[]>;
      functions: FunctionSpec[];
      sink: Enqueue;
      logger: Logger;
    },
  ) {
    this.log = o.logger.child({ component: 'catch-up' });
  }

  /** Sets missing checkpoints to now, then runs every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    const now = Date.now();
    for (const bucket of listenPlan(this.o.functions).keys()) {
      await this.o.redis.set(checkpointKey(bucket), String(now), 'NX');
    }
    this.timer = setInterval(() => void this.run().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round over every bucket (rounds never overlap); returns the number of events enqueued. */
  run(): Promise<number> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<number> {
    let total = 0;
    for (const [bucket, filter] of listenPlan(this.o.functions)) {
      try {
        total += await this.bucket(bucket, filter.prefix);
      } catch (err) {
        this.log.warn({ bucket, err: (err as Error).message }, 'catch-up failed; next round retries');
      }
    }
    return total;
  }

  private async bucket(bucket: string, prefix: string): Promise<number> {
    const since = Number((await this.o.redis.get(checkpointKey(bucket))) ?? Date.now()) - OVERLAP_MS;
    const objects = await this.o.list(bucket, prefix, LIST_LIMIT);
    let newest = 0;
    const events: RoutedEvent[] = [];
    for (const o of objects) {
      const modified = o.lastModified ? Date.parse(o.lastModified) : 0;
      if (modified < since) continue;
      newest = Math.max(newest, modified);
      const record = recordFromListing(bucket, o);
      for (const functionName of routeBucketRecord(record, this.o.functions)) {
        events.push({
          functionName,
          payload: { source: 'bucket', record, enqueuedAt: Date.now() },
          dedupKey: bucketDedupKey(record),
        });
      }
    }
    for (let i = 0; i < events.length; i += 500) await this.o.sink.enqueue(events.slice(i, i + 500));
    // Only after everything is queued: a crash before this point repeats the round, harmlessly.
    if (newest > 0) {
      await this.o.redis.eval(
        "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
        1,
        checkpointKey(bucket),
        String(newest),
      );
    }
    // Recent objects are listed again every round (the overlap); their ids are taken, so debug.
    if (events.length) this.log.debug({ bucket, events: events.length }, 'catch-up round');
    return events.length;
  }
}
