import { z } from 'zod';
import { LIMITS, always, bucketName, duration, ruled } from './fields.js';
import {
  HEADER_NAME_PATTERN,
  S3_EVENT_NAMES,
  SECRET_NAME_PATTERN,
  WEBHOOK_METHODS,
  eventNameProblem,
  webhookPathProblem,
} from './rules.js';
import { brokerNameProblem, cronProblem, queueNameProblem, timezoneProblem } from './queue-rules.js';

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

/** Brokers a queue trigger consumes from. */
export const QUEUE_BROKERS = ['amqp', 'nats', 'redis'] as const;

export const queue = z
  .strictObject({
    broker: z
      .enum(QUEUE_BROKERS, { error: () => `must be one of: ${QUEUE_BROKERS.join(', ')}` })
      .describe('amqp (RabbitMQ), nats (NATS JetStream) or redis (Redis Streams)'),
    name: ruled(queueNameProblem, '^[A-Za-z0-9_.:>*-]+$').describe(
      'The AMQP queue, the JetStream subject, or the Redis stream key',
    ),
    url: z
      .string()
      .regex(
        SECRET_NAME_PATTERN,
        'must be the NAME of the environment variable that holds the URL (like ORDERS_BROKER_URL), never the URL itself',
      )
      .optional()
      .describe("Name of the environment variable holding the broker's URL; default: the local service"),
    maxBacklog: z
      .int()
      .min(1)
      .max(LIMITS.maxBacklog)
      .default(1000)
      .describe("Stop taking messages while this many of the function's invocations wait"),
  })
  .superRefine((q, ctx) => {
    if (typeof q.broker !== 'string' || typeof q.name !== 'string') return;
    const problem = brokerNameProblem(q.broker, q.name);
    if (problem) ctx.addIssue({ code: 'custom', path: ['name'], message: problem });
  }, always);

export const queueTrigger = z
  .strictObject({ queue })
  .describe('Runs the function once for each message on a queue, stream or subject');

const everyHint = 'a duration such as 30s, 5m or 1h';
export const schedule = z
  .strictObject({
    cron: ruled(cronProblem, '^\\S+( \\S+){4,5}$')
      .optional()
      .describe("A cron pattern: 5 fields, or 6 with seconds first: '*/5 * * * *'"),
    every: duration(LIMITS.maxWaitMs, 'positive')
      .optional()
      .describe(`How often, instead of cron: ${everyHint}`),
    timezone: ruled(timezoneProblem, '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$')
      .default('UTC')
      .describe('IANA time zone the cron pattern is read in: Europe/Berlin'),
  })
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.every === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give either cron (a cron pattern) or every (a duration), not both or neither',
      });
    }
  }, always);

export const scheduleTrigger = z
  .strictObject({ schedule })
  .describe('Runs the function on a schedule, once per tick across every platform process');

/** A trigger, told apart by its fields. */
export const trigger = z.union([bucketTrigger, webhookTrigger, queueTrigger, scheduleTrigger], {
  error:
    'must be a bucket trigger ({ bucket, events, prefix, suffix }), a webhook trigger ({ webhook: { path } }), ' +
    'a queue trigger ({ queue: { broker, name } }) or a schedule trigger ({ schedule: { cron } or { every } })',
});
