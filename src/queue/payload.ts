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
  }
}
