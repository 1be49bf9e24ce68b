import type { Hono } from 'hono';
import * as Minio from 'minio';
import { safeEqual } from '../../api/auth.js';
import { limitBody } from '../../api/body-limit.js';
import { HttpError } from '../../api/errors.js';
import type { FunctionSpec } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import { routeBucketRecord } from '../route.js';
import { listenPlan } from './plan.js';
import { bucketDedupKey, InvalidRecordError, normalizeRecord } from './record.js';

/** The notification target `services:up` configures in MinIO (`MINIO_NOTIFY_WEBHOOK_*_FAAS`). */
export const TARGET_ID = 'FAAS';
export const TARGET_ARN = `arn:minio:sqs::${TARGET_ID}:webhook`;
/**
 * A second target without a queue: MinIO sends from a queue only every 3 s, so this one posts
 * each event at once. Its deliveries are lost while the platform is down (the queued target
 * covers them); an event that arrives both ways has one job id and runs once.
 */
export const FAST_TARGET_ARN = `arn:minio:sqs::${TARGET_ID}FAST:webhook`;
/** Where MinIO posts bucket events to the platform. */
export const TARGET_PATH = '/minio/events';

/** Turns one MinIO notification body into routed events (pure). */
export function routeNotification(body: unknown, functions: FunctionSpec[], now: number): RoutedEvent[] {
  const records = (body as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new InvalidRecordError('notification has no Records array');
  const events: RoutedEvent[] = [];
  for (const raw of records) {
    // MinIO's configured targets send the key URL-encoded, as AWS does.
    const record = normalizeRecord(raw, 'url');
    for (const functionName of routeBucketRecord(record, functions)) {
      events.push({
        functionName,
        payload: { source: 'bucket', record, enqueuedAt: now },
        dedupKey: bucketDedupKey(record),
      });
    }
  }
  return events;
}

/**
 * The endpoint MinIO's webhook target posts to. It answers 2xx only once every routed event is
 * durably queued; otherwise MinIO keeps the event in its on-disk queue and sends it again.
 * @example minioTargetRoute(app, { token, functions, enqueue: producer, logger, bodyLimit: 6 << 20 });
 */
export function minioTargetRoute(
  app: Hono,
  o: {
    token: string | undefined;
    functions: FunctionSpec[];
    enqueue: Enqueue;
    logger: Logger;
    /** Largest notification body accepted; a larger one is refused with 413 as it streams in. */
    bodyLimit: number;
  },
): void {
  const log = o.logger.child({ component: 'minio-target' });
  const limit = limitBody(o.bodyLimit);
  app.post(TARGET_PATH, limit, async (c) => {
    const header = c.req.header('authorization') ?? '';
    const presented = header.replace(/^Bearer\s+/i, '');
    if (!o.token || !safeEqual(presented, o.token)) {
      throw new HttpError(401, 'unauthorized', 'bad or missing MinIO target token');
    }
    // Read outside the try: a body cut short by a client that left is the app's error handler's
    // (routine), not a malformed notification.
    const text = await c.req.text();
    let events: RoutedEvent[];
    try {
      events = routeNotification(JSON.parse(text), o.functions, Date.now());
    } catch (err) {
      // A malformed notification will not get better on retry: accept it and say so in the log.
      log.error({ err: (err as Error).message }, 'dropped a malformed MinIO notification');
      return c.json({ accepted: 0, error: (err as Error).message }, 200);
    }
    if (events.length === 0) return c.json({ accepted: 0 });
    try {
      const ids = await o.enqueue.enqueue(events);
      return c.json({ accepted: ids.length, ids });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not queue bucket events; MinIO will retry');
      throw new HttpError(503, 'unavailable', 'the queue is unavailable; retry later', {
        'Retry-After': '1',
      });
    }
  });
}

/**
 * Points every bucket that a trigger names at the platform's MinIO target, with the trigger's
 * filter when it is the bucket's only one. Replaces the bucket's notification configuration.
 * @throws with a message naming the fix when MinIO has no such target.
 */
export async function configureTargets(client: Minio.Client, functions: FunctionSpec[]): Promise<string[]> {
  const buckets: string[] = [];
  let arns = [TARGET_ARN, FAST_TARGET_ARN];
  for (const [bucket, filter] of listenPlan(functions)) {
    const config = (targets: string[]) => {
      const c = new Minio.NotificationConfig();
      for (const arn of targets) {
        const q = new Minio.QueueConfig(arn);
        for (const e of filter.events) q.addEvent(e as Minio.NotificationEvent);
        if (filter.prefix) q.addFilterPrefix(filter.prefix);
        if (filter.suffix) q.addFilterSuffix(filter.suffix);
        c.add(q);
      }
      return c;
    };
    try {
      await client.setBucketNotification(bucket, config(arns));
    } catch (err) {
      if (!isMissingArn(err)) throw err;
      if (arns.length === 2) {
        // A MinIO with only the queued target: durable, but events arrive up to 3 s late.
        arns = [TARGET_ARN];
        try {
          await client.setBucketNotification(bucket, config(arns));
          buckets.push(bucket);
          continue;
        } catch (again) {
          if (!isMissingArn(again)) throw again;
        }
      }
      throw new Error(
        `MinIO has no webhook target ${TARGET_ID} for bucket events: start MinIO with \`npm run services:up\` ` +
          `(it sets MINIO_NOTIFY_WEBHOOK_*_${TARGET_ID}), or set FAAS_BUCKET_EVENTS=listen`,
      );
    }
    buckets.push(bucket);
  }
  return buckets;
}

function isMissingArn(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'InvalidArgument' || /ARN/i.test(e.message ?? '');
}
