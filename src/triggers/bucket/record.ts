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
 * Turns one record of a MinIO or S3 notification into the record the platform keeps: validated,
 * `eventName` without MinIO's `s3:` prefix (as AWS sends it), and the object key decoded, so that
 * routing, dedup ids and the console work on the key as uploaded whatever the source's encoding.
 * The handler receives the key re-encoded as S3 encodes it (s3EventRecord in queue/s3-event.ts).
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
 * The object's modification time in milliseconds, read from a MinIO sequencer (the hex of the
 * modification time in nanoseconds); undefined when the sequencer is not one (AWS's are opaque).
 * @example sequencerMs('18EBEDAE0082D93A') // 1795790208025 (2026-11-27T14:36:48.025Z)
 */
export function sequencerMs(sequencer: string | undefined): number | undefined {
  if (!sequencer || !/^[0-9A-Fa-f]{15,16}$/.test(sequencer)) return undefined;
  const ms = Number(BigInt(`0x${sequencer}`) / 1_000_000n);
  // Plausible modification times only (2001-2100): anything else is an opaque sequencer.
  return ms > 978_307_200_000 && ms < 4_102_444_800_000 ? ms : undefined;
}

/** The sequencer MinIO would send for an object modified at `ms` (for events built from listings). */
export function sequencerFromMs(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString(16).toUpperCase();
}

/**
 * The dedup key of a bucket event: bucket, key, version (or eTag when the bucket is not
 * versioned) and the object's modification time (MinIO's sequencer is that time in nanoseconds;
 * an opaque sequencer is used as it is). A notification delivered twice gives the same key, and
 * so does the same upload found by a catch-up listing (its LastModified is the same time), while
 * a second upload of the same bytes to the same key does not.
 * @example bucketDedupKey(record) // '["uploads","csv/a.csv","9dd4…",1795790208025]'
 */
export function bucketDedupKey(record: S3Record): string {
  const { bucket, object } = record.s3;
  // JSON keeps the parts apart whatever characters a key holds.
  return JSON.stringify([
    bucket.name,
    object.key,
    object.versionId || object.eTag || '',
    sequencerMs(object.sequencer) ?? object.sequencer ?? '',
  ]);
}
