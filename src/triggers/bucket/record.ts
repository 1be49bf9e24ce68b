import { s3RecordSchema, type S3Record } from '../../queue/payload.js';

/**
 * How a notification spells its object keys.
 * - `url`: form-encoded (`+` for space, `%XX` for the rest). AWS S3 and MinIO's configured targets
 *   (webhook, queue) send this: MinIO passes the key through Go's `url.QueryEscape`.
 * - `none`: the key as uploaded. MinIO's listen API sends this (it publishes `ToEvent(false)`,
 *   cmd/event-notification.go); decoding it would turn `a+b` into `a b` and fail on `100%.csv`.
 */
export type KeyEncoding = 'url' | 'none';

/** A notification record that cannot become a handler event. */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

/**
 * Turns one record of a MinIO or S3 notification into the shape a handler receives: validated,
 * `eventName` without MinIO's `s3:` prefix (as AWS sends it), and the object key decoded so the
 * handler sees exactly the key that was uploaded.
 * @param keyEncoding `url` (default) for AWS and MinIO's configured targets, `none` for the listen API.
 * @throws InvalidRecordError when the record is not an S3 event record or its key is not URL-encoded.
 * @example normalizeRecord(raw, 'none').s3.object.key // 'données/été ☃.csv'
 */
export function normalizeRecord(raw: unknown, keyEncoding: KeyEncoding = 'url'): S3Record {
  const parsed = s3RecordSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');
    throw new InvalidRecordError(`not an S3 event record (${where})`);
  }
  const record = parsed.data;
  const key = keyEncoding === 'url' ? decodeKey(record.s3.object.key) : record.s3.object.key;
  return {
    ...record,
    eventName: record.eventName.replace(/^s3:/, ''),
    s3: { ...record.s3, object: { ...record.s3.object, key } },
  };
}

function decodeKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    throw new InvalidRecordError(`object key is not URL-encoded: ${JSON.stringify(encoded)}`);
  }
}

/**
 * The dedup key of a bucket event: bucket, key, version (or eTag when the bucket is not
 * versioned) and sequencer. A notification delivered twice gives the same key; a second upload
 * of the same bytes to the same key does not (its sequencer differs).
 * @example bucketDedupKey(record) // '["uploads","csv/a.csv","9dd4…","18EBEC229D053623"]'
 */
export function bucketDedupKey(record: S3Record): string {
  const { bucket, object } = record.s3;
  // JSON keeps the parts apart whatever characters a key holds.
  return JSON.stringify([
    bucket.name,
    object.key,
    object.versionId || object.eTag || '',
    object.sequencer ?? '',
  ]);
}
