import { z } from 'zod';
import { always, bucketName, ruled } from './fields.js';
import {
  HEADER_NAME_PATTERN,
  S3_EVENT_NAMES,
  SECRET_NAME_PATTERN,
  WEBHOOK_METHODS,
  eventNameProblem,
  webhookPathProblem,
} from './rules.js';

export const bucketTrigger = z
  .strictObject({
    bucket: bucketName.describe('The bucket whose events run the function'),
    events: z
      .array(ruled(eventNameProblem).meta({ enum: [...S3_EVENT_NAMES] }))
      .min(1)
      .default(['s3:ObjectCreated:*'])
      .describe('S3 event names; a trailing * matches every event of that kind'),
    prefix: z.string().default('').describe('Only keys starting with this'),
    suffix: z.string().default('').describe('Only keys ending with this'),
  })
  .describe('Runs the function for events on objects in a bucket');

const method = z.enum([...WEBHOOK_METHODS, ...WEBHOOK_METHODS.map((m) => m.toLowerCase())], {
  error: () => `must be one of: ${WEBHOOK_METHODS.join(', ')}`,
});

export const webhook = z
  .strictObject({
    path: ruled(webhookPathProblem, '^/').describe('URL path the platform serves the webhook on'),
    method: z
      .union([method, z.array(method).min(1)], {
        error: `must be a method or a list of methods: ${WEBHOOK_METHODS.join(', ')}`,
      })
      .default('POST'),
    secret: z
      .string()
      .regex(
        SECRET_NAME_PATTERN,
        'must be the NAME of the environment variable that holds the secret (like CSV_HOOK_SECRET), never the secret itself',
      )
      .optional()
      .describe('Name of the environment variable holding the secret; never the secret itself'),
    mode: z
      .enum(['async', 'sync'])
      .default('async')
      .describe("async queues the request and answers at once; sync answers with the handler's response"),
    idempotencyHeader: z
      .string()
      .regex(HEADER_NAME_PATTERN, 'must be an HTTP header name')
      .optional()
      .describe('Requests repeating this header value are accepted once'),
    signature: z
      .enum(['github', 'timestamped'])
      .optional()
      .describe('How the request is signed with the secret'),
    payload: z
      .enum(['2.0', '1.0'], { error: "must be '2.0' or '1.0' (quoted: a bare 2.0 in YAML is a number)" })
      .default('2.0')
      .describe(
        "API Gateway payload format of the handler's event and response: '2.0' (HTTP API, function URL) or '1.0' (REST API)",
      ),
  })
  .superRefine((w, ctx) => {
    if (w.signature !== undefined && w.secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['signature'],
        message: 'needs secret: the name of the variable holding the signing key',
      });
    }
  }, always);

export const webhookTrigger = z
  .strictObject({ webhook })
  .describe('Runs the function for HTTP requests to a path');

/** A bucket trigger or a webhook trigger, told apart by their fields. */
export const trigger = z.union([bucketTrigger, webhookTrigger], {
  error:
    'must be a bucket trigger ({ bucket, events, prefix, suffix }) or a webhook trigger ({ webhook: { path } })',
});
