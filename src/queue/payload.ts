import { z } from 'zod';

/**
 * One S3 event record as the handler sees it: the notification's shape (AWS and MinIO agree on
 * it), with the object key URL-decoded and `eventName` without MinIO's `s3:` prefix, as AWS sends it.
 */
export const s3RecordSchema = z
  .object({
    eventVersion: z.string().default('2.0'),
    eventSource: z.string().default('minio:s3'),
    awsRegion: z.string().default(''),
    eventTime: z.string(),
    eventName: z.string(),
    s3: z
      .object({
        s3SchemaVersion: z.string().default('1.0'),
        configurationId: z.string().optional(),
        bucket: z.object({ name: z.string(), arn: z.string().optional() }).loose(),
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

/** An HTTP request as a webhook handler sees it. */
export const httpEventSchema = z.object({
  method: z.string(),
  path: z.string(),
  headers: z.record(z.string(), z.string()),
  query: z.record(z.string(), z.string()),
  body: z.string(),
  isBase64Encoded: z.boolean(),
});
export type HttpEvent = z.infer<typeof httpEventSchema>;

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
    request: httpEventSchema,
    enqueuedAt: z.number(),
    sync: z.boolean(),
  }),
  z.object({ source: z.literal('invoke'), event: z.unknown(), enqueuedAt: z.number(), sync: z.boolean() }),
  z.object({ source: z.literal('queue'), record: sqsRecordSchema, enqueuedAt: z.number() }),
  z.object({ source: z.literal('schedule'), event: scheduledEventSchema, enqueuedAt: z.number() }),
]);
export type JobPayload = z.infer<typeof jobPayloadSchema>;

/** The event object the handler receives for a job. */
export function handlerEvent(payload: JobPayload): unknown {
  switch (payload.source) {
    case 'bucket':
      return { Records: [payload.record] };
    case 'webhook':
      return payload.request;
    case 'invoke':
      return payload.event;
    case 'queue':
      return { Records: [payload.record] };
    case 'schedule':
      return payload.event;
  }
}
