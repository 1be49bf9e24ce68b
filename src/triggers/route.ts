/**
 * Which functions an event runs. Pure: no I/O, no clock.
 */
import type { BucketTrigger, FunctionSpec } from '../manifest/types.js';
import type { S3Record } from '../queue/payload.js';

/** `ObjectCreated:Put` and `s3:ObjectCreated:Put` are the same event; compare in the `s3:` form. */
function withS3Prefix(eventName: string): string {
  return eventName.startsWith('s3:') ? eventName : `s3:${eventName}`;
}

/**
 * Whether an S3 event name matches a manifest event pattern; a trailing `*` matches every event
 * that starts with what precedes it.
 * @example matchesEvent('s3:ObjectCreated:*', 'ObjectCreated:Put') // true
 */
export function matchesEvent(pattern: string, eventName: string): boolean {
  const p = withS3Prefix(pattern);
  const name = withS3Prefix(eventName);
  return p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p;
}

/**
 * Whether one bucket trigger fires for an event on `bucket`/`key`. The key is the decoded key, as
 * uploaded; `eventName` may carry the `s3:` prefix or not.
 * @example matchesBucketTrigger(trigger, 'uploads', 'csv/a b.csv', 's3:ObjectCreated:Put')
 */
export function matchesBucketTrigger(
  trigger: BucketTrigger,
  bucket: string,
  key: string,
  eventName: string,
): boolean {
  return (
    trigger.bucket === bucket &&
    key.startsWith(trigger.prefix) &&
    key.endsWith(trigger.suffix) &&
    trigger.events.some((pattern) => matchesEvent(pattern, eventName))
  );
}

/**
 * The names of the functions a bucket event runs, in manifest order, each once even when several
 * of its triggers match.
 * @example routeBucketRecord(record, Object.values(manifest.functions)) // ['csv-summary']
 */
export function routeBucketRecord(record: S3Record, functions: FunctionSpec[]): string[] {
  const bucket = record.s3.bucket.name;
  const key = record.s3.object.key;
  return functions
    .filter((fn) =>
      fn.triggers.some((t) => t.type === 'bucket' && matchesBucketTrigger(t, bucket, key, record.eventName)),
    )
    .map((fn) => fn.name);
}
