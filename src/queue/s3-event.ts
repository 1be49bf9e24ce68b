/**
 * The S3 event record a handler receives, built from the record the platform keeps. Pure.
 *
 * The platform keeps the key decoded (routing, dedup ids and the console work on the key as
 * uploaded); the handler gets it encoded the way S3 encodes it, so that what real handlers do,
 * `decodeURIComponent(key.replace(/\+/g, ' '))` (or Python's `unquote_plus`), yields the key.
 */
import type { S3EventRecord } from 'aws-lambda';
import type { S3Record } from './payload.js';

/** Every character S3 leaves as it is in an event's key: `A-Za-z0-9`, `.-_*` and `/`. */
const KEPT = /^[A-Za-z0-9._*/-]$/;
/** Unpaired surrogates: not valid UTF-8, so not in any real key; replaced rather than thrown on. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Encodes an object key as S3 does in event notifications: form encoding
 * (`application/x-www-form-urlencoded`, as S3's documentation says: "red flower.jpg" becomes
 * "red+flower.jpg"), that is a space as `+` and every other byte of the UTF-8 form as `%XX`
 * (upper-case hex), except letters, digits, `.-_*` (the characters form encoding leaves alone)
 * and `/`, which S3 leaves unencoded in events (MinIO encodes it; see minio/minio#11665).
 * @example encodeS3Key('csv/a b+c%.csv') // 'csv/a+b%2Bc%25.csv'
 */
export function encodeS3Key(key: string): string {
  let out = '';
  for (const ch of key.replace(LONE_SURROGATE, '\uFFFD')) {
    if (KEPT.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a key as handlers do: `+` is a space, then percent-decoding. The inverse of encodeS3Key. */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replaceAll('+', ' '));
}

/** An ISO 8601 time with milliseconds, as AWS writes `eventTime`; other text is passed on as it is. */
function isoTime(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/**
 * The record AWS would send for a bucket event, whichever way the platform learned of it (MinIO's
 * webhook target, its listen API, or a catch-up listing): the same fields in each case, filled
 * from what the notification said and, where it said nothing (a listing), with empty strings.
 * `x-amz-request-id` falls back to the sequencer, which is what MinIO uses for it.
 * @param region the platform's S3 region, also the function's `AWS_REGION`.
 * @example s3EventRecord(record, 'us-east-1').s3.object.key // 'csv/a+b.csv'
 */
export function s3EventRecord(record: S3Record, region: string): S3EventRecord {
  const { bucket, object } = record.s3;
  const principal = record.userIdentity?.principalId ?? '';
  const response = (name: string): string => {
    const v = record.responseElements?.[name];
    return typeof v === 'string' ? v : '';
  };
  const requestId = response('x-amz-request-id') || object.sequencer || '';
  const out = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: isoTime(record.eventTime),
    eventName: record.eventName.replace(/^s3:/, ''),
    userIdentity: { principalId: principal },
    requestParameters: { sourceIPAddress: record.requestParameters?.sourceIPAddress ?? '' },
    responseElements: {
      'x-amz-request-id': requestId,
      'x-amz-id-2': response('x-amz-id-2'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: record.s3.configurationId ?? '',
      bucket: {
        name: bucket.name,
        ownerIdentity: { principalId: bucket.ownerIdentity?.principalId ?? principal },
        arn: `arn:aws:s3:::${bucket.name}`,
      },
      object: {
        key: encodeS3Key(object.key),
        // AWS omits size and eTag where there are none (deletions), and versionId when unversioned.
        ...(object.size !== undefined && { size: object.size }),
        ...(object.eTag && { eTag: object.eTag }),
        ...(object.versionId && { versionId: object.versionId }),
        sequencer: object.sequencer ?? '',
      },
    },
  };
  return out as S3EventRecord;
}
