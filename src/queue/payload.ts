import { z } from 'zod';

// The fields below only fill the handler's event: one of an unexpected type is dropped (.catch),
// never the record.
const principal = z.object({ principalId: z.string() }).loose().optional().catch(undefined);

/**
 * One S3 event record as the platform keeps it: the notification's shape (AWS and MinIO agree on
 * it), with the object key decoded (as uploaded: what routing, dedup ids and the console use) and
 * `eventName` without MinIO's `s3:` prefix. The handler receives it re-encoded as AWS sends it
 * (s3EventRecord in s3-event.ts).
 */
export const s3RecordSchema = z
  .object({
    eventVersion: z.string().default('2.0'),
    eventSource: z.string().default('minio:s3'),
    awsRegion: z.string().default(''),
    eventTime: z.string(),
    eventName: z.string(),
    userIdentity: principal,
    requestParameters: z.object({ sourceIPAddress: z.string() }).loose().optional().catch(undefined),
    responseElements: z.record(z.string(), z.unknown()).optional().catch(undefined),
    s3: z
      .object({
        s3SchemaVersion: z.string().default('1.0'),
        configurationId: z.string().optional(),
        bucket: z.object({ name: z.string(), ownerIdentity: principal, arn: z.string().optional() }).loose(),
        object: z
          .object({
            key: z.string(),
            size: z.number().optional(),
            eTag: z.string().optional(),
            contentType: z.string().optional(),
            versionId: z.string().optional(),
            sequencer: z.string().optional(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();
export type S3Record = z.infer<typeof s3RecordSchema>;

/**
 * An HTTP request as a webhook handler receives it: an API Gateway event of payload format 2.0 or
 * 1.0 (built by triggers/webhook/event-v2.ts and event-v1.ts), passed to the handler unchanged.
 */
export const apiGatewayEventSchema = z.custom<{ version: '1.0' | '2.0' }>(
  (v) => {
    const version = (v as { version?: unknown } | null)?.version;
    return version === '1.0' || version === '2.0';
  },
  { message: "not an API Gateway event (version '1.0' or '2.0')" },
);

/**
 * One queue message as a Lambda SQS handler sees it (`event.Records[0]`): `body` is the payload
 * as text; broker headers (or a Redis stream entry's other fields) are `messageAttributes`.
 */
export const sqsRecordSchema = z.object({
  messageId: z.string(),
  receiptHandle: z.string(),
  body: z.string(),
  attributes: z.record(z.string(), z.string()),
  messageAttributes: z.record(
    z.string(),
    z.object({ stringValue: z.string().optional(), dataType: z.string() }).loose(),
  ),
  md5OfBody: z.string(),
  eventSource: z.string(),
  eventSourceARN: z.string(),
  awsRegion: z.string(),
});
export type SqsRecord = z.infer<typeof sqsRecordSchema>;

/** EventBridge's scheduled event, the event of a schedule trigger's tick. */
export const scheduledEventSchema = z.object({
  version: z.literal('0'),
  id: z.string(),
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.object({}).loose(),
});
export type ScheduledEvent = z.infer<typeof scheduledEventSchema>;

/** The data of every job on a function's queue: what happened, and when it was accepted. */
export const jobPayloadSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('bucket'), record: s3RecordSchema, enqueuedAt: z.number() }),
  z.object({
    source: z.literal('webhook'),
    event: apiGatewayEventSchema,
    enqueuedAt: z.number(),
    sync: z.boolean(),
  }),
  z.object({ source: z.literal('invoke'), event: z.unknown(), enqueuedAt: z.number(), sync: z.boolean() }),
  z.object({ source: z.literal('queue'), record: sqsRecordSchema, enqueuedAt: z.number() }),
  z.object({ source: z.literal('schedule'), event: scheduledEventSchema, enqueuedAt: z.number() }),
]);
export type JobPayload = z.infer<typeof jobPayloadSchema>;
