import type { Hono } from 'hono';
import { safeEqual } from '../../api/auth.js';
import { limitBody } from '../../api/body-limit.js';
import { HttpError } from '../../api/errors.js';
import { ROUTES } from '../../http/routes.js';
import type { FunctionSpec } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import { UserError } from '../../util/user-error.js';
import { routeBucketRecord } from '../route.js';
import { listenPlan } from './plan.js';
import type { NotificationRule, StoreApi } from './store-api.js';
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
export const TARGET_PATH = ROUTES.minioEvents;

/** A record of a notification that could not become an event, and why. */
export interface RejectedRecord {
  index: number;
  reason: string;
}

/**
 * Turns one MinIO notification body into routed events (pure). A record that is not a valid S3
 * event record is reported in `rejected` and costs only itself: the batch's other records are
 * routed as usual.
 * @throws InvalidRecordError when the body has no `Records` array at all.
 */
export function routeNotification(
  body: unknown,
  functions: FunctionSpec[],
  now: number,
): { events: RoutedEvent[]; rejected: RejectedRecord[] } {
  const records = (body as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new InvalidRecordError('notification has no Records array');
  const events: RoutedEvent[] = [];
  const rejected: RejectedRecord[] = [];
  records.forEach((raw: unknown, index) => {
    let record;
    try {
      // MinIO's configured targets send the key URL-encoded, as AWS does.
      record = normalizeRecord(raw, 'url');
    } catch (err) {
      if (!(err instanceof InvalidRecordError)) throw err;
      rejected.push({ index, reason: err.message });
      return;
    }
    for (const functionName of routeBucketRecord(record, functions)) {
      events.push({
        functionName,
        payload: { source: 'bucket', record, enqueuedAt: now },
        dedupKey: bucketDedupKey(record),
      });
    }
  });
  return { events, rejected };
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
    /** Told how many records were refused as malformed (they are not retried: they would not improve). */
    onInvalid?: (n: number) => void;
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
    let routed: ReturnType<typeof routeNotification>;
    try {
      routed = routeNotification(JSON.parse(text), o.functions, Date.now());
    } catch (err) {
      // A malformed notification will not get better on retry: accept it and say so in the log.
      const reason = (err as Error).message;
      o.onInvalid?.(1);
      log.warn({ err: reason }, 'dropped a malformed MinIO notification');
      return c.json({ accepted: 0, ids: [], rejected: [{ index: -1, reason }] }, 200);
    }
    const { events, rejected } = routed;
    if (rejected.length) {
      o.onInvalid?.(rejected.length);
      log.warn(
        { rejected },
        "dropped malformed records of a MinIO notification; the batch's others are queued",
      );
    }
    if (events.length === 0) return c.json({ accepted: 0, ids: [], rejected });
    try {
      const ids = await o.enqueue.enqueue(events);
      return c.json({ accepted: ids.length, ids, rejected });
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
export async function configureTargets(client: StoreApi, functions: FunctionSpec[]): Promise<string[]> {
  const buckets: string[] = [];
  let arns = [TARGET_ARN, FAST_TARGET_ARN];
  for (const [bucket, filter] of listenPlan(functions)) {
    const config = (targets: string[]): NotificationRule[] =>
      targets.map((arn) => ({ arn, events: filter.events, prefix: filter.prefix, suffix: filter.suffix }));
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
      throw new UserError(
        `MinIO has no webhook target ${TARGET_ID} for bucket events`,
        `start MinIO with \`npm run services:up\` (it sets MINIO_NOTIFY_WEBHOOK_*_${TARGET_ID}), or set FAAS_BUCKET_EVENTS=listen`,
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
