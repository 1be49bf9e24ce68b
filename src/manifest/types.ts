/**
 * The manifest after validation, with every default filled in and every duration and size
 * converted to numbers. Everything downstream (routing, queues, pools) reads only these types.
 */

/** A storage grant: a whole bucket, or only keys under a prefix (`bucket/prefix/`). */
export interface StorageGrant {
  bucket: string;
  /** Empty string for the whole bucket. */
  prefix: string;
}

export interface BucketTrigger {
  type: 'bucket';
  bucket: string;
  /** S3 event names, possibly ending in `*` (`s3:ObjectCreated:*`). */
  events: string[];
  prefix: string;
  suffix: string;
}

export interface WebhookTrigger {
  type: 'webhook';
  path: string;
  methods: string[];
  /** Name of the environment variable that holds the secret; never the secret itself. */
  secret?: string;
  mode: 'async' | 'sync';
  /** Header whose value identifies a delivery; a repeated value is accepted once. */
  idempotencyHeader?: string;
  /** How the request is signed with the secret. */
  signature?: 'github' | 'timestamped';
  /** API Gateway payload format of the event and response: '2.0' (HTTP API) or '1.0' (REST API). */
  payload: '1.0' | '2.0';
}

export interface QueueTrigger {
  type: 'queue';
  /** amqp (RabbitMQ), nats (NATS JetStream) or redis (Redis Streams). */
  broker: 'amqp' | 'nats' | 'redis';
  /** The AMQP queue, the JetStream subject, or the Redis stream key. */
  name: string;
  /** Name of the environment variable holding the broker's URL; the local service when unset. */
  url?: string;
  /** Messages are not taken while this many of the function's invocations wait. */
  maxBacklog: number;
}

/** Exactly one of `cron` and `everyMs` is set. */
export interface ScheduleTrigger {
  type: 'schedule';
  /** 5 fields, or 6 with seconds first. */
  cron?: string;
  everyMs?: number;
  /** IANA time zone the cron pattern is read in. */
  timezone: string;
}

export type Trigger = BucketTrigger | WebhookTrigger | QueueTrigger | ScheduleTrigger;

/** The languages functions are written in; each has its runtime image (src/runtimes). */
export const RUNTIME_NAMES = ['node20', 'python3.11'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface FunctionSpec {
  name: string;
  /** The handler as written: `csv-summary/index.handler`. */
  handler: string;
  /** Absolute path of the handler's source file. */
  handlerFile: string;
  /** The exported function's name (`handler`). */
  exportName: string;
  runtime: RuntimeName;
  timeoutMs: number;
  memoryBytes: number;
  /** CPUs, fractional (0.5 = half a core). */
  cpu: number;
  /** Invocations one container serves at once. */
  concurrency: number;
  scale: { min: number; max: number; idleTimeoutMs: number };
  retry: { attempts: number; backoffMs: number; maxBackoffMs: number };
  env: Record<string, string>;
  storage: { read: StorageGrant[]; write: StorageGrant[] };
  network: 'none' | 'outbound';
  triggers: Trigger[];
  /** The deployed version this spec is (absent before a deploy, as in `faas validate`). */
  version?: number;
  /** sha256 of the version's bundle in the code store. */
  codeHash?: string;
}

export interface Manifest {
  version: 1;
  /** Absolute path of the manifest file. */
  file: string;
  /** Absolute path of the folder handler paths are relative to. */
  dir: string;
  functions: Record<string, FunctionSpec>;
}
