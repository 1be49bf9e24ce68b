import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseTrustedProxies } from '../http/client-address.js';
import { isClusterUrl, parseClusterUrl, redisUrlProblem } from '../queue/redis-url.js';
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';
import { UserError } from '../util/user-error.js';

/** A decimal whole number written as digits only (no blanks, hex or exponents). */
const wholeNumber = z.string().regex(/^\d+$/, 'a whole number').transform(Number);

const duration = z.string().regex(DURATION_PATTERN, 'a duration such as 500ms, 30s, 5m or 1h');

/** The platform's settings, read from environment variables in one place (see README). */
export const configSchema = z.object({
  // One Redis (redis://, rediss://) or a Redis Cluster by its seeds (redis+cluster://h:p,h:p).
  REDIS_URL: z
    .string()
    .superRefine((url, ctx) => {
      const problem = redisUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('redis://127.0.0.1:6379'),
  S3_ENDPOINT: z.string().url('a URL such as http://127.0.0.1:9000').default('http://127.0.0.1:9000'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('minioadmin'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).default('minioadmin'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  FAAS_PORT: wholeNumber.pipe(z.number().max(65535)).default(8080),
  FAAS_HOST: z.string().optional(),
  FAAS_MANIFEST: z.string().default('functions/manifest.yaml'),
  FAAS_API_TOKEN: z
    .string()
    .regex(/^\S{16,}$/, 'at least 16 characters, no whitespace')
    .optional(),
  FAAS_STATE_DIR: z.string().optional(),
  FAAS_RUNTIME_IMAGE: z.string().optional(),
  /** Override of the python3.11 runtime image (the one built for this platform when unset). */
  FAAS_PYTHON_IMAGE: z.string().optional(),
  /** The host's Python 3.11, which installs functions' requirements.txt (pip) and checks their code. */
  FAAS_PYTHON: z.string().min(1).default('python3.11'),
  /** Built function code and installed dependencies, kept across runs. */
  FAAS_CACHE_DIR: z.string().optional(),
  FAAS_INSTANCE: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'up to 40 lowercase letters, digits and -')
    .optional(),
  FAAS_PREWARM: wholeNumber.pipe(z.number().max(64)).default(1),
  FAAS_MAX_CONTAINERS: wholeNumber.pipe(z.number().min(1)).optional(),
  FAAS_START_CONCURRENCY: wholeNumber.pipe(z.number().min(1).max(256)).default(8),
  FAAS_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(6 * 1024 * 1024),
  FAAS_INVOCATION_TTL: duration.default('168h'),
  /**
   * How long past a function's timeout a job's lock lasts without renewal. A worker that dies
   * (kill -9, lost host) keeps its jobs this much longer than the timeout before another takes them.
   */
  FAAS_LOCK_MARGIN: duration.default('30s'),
  /** How often workers look for jobs whose worker died (BullMQ's stalledInterval). */
  FAAS_STALLED_INTERVAL: duration.default('30s'),
  /**
   * How bucket events arrive: `webhook` (MinIO posts them to /minio/events from its durable
   * on-disk queue; set up by services:up) or `listen` (MinIO's listen API, nothing to configure
   * in MinIO, but events that happen while disconnected are missed).
   */
  FAAS_BUCKET_EVENTS: z.enum(['webhook', 'listen', 'poll']).default('webhook'),
  /**
   * How often to list buckets for uploads no notification announced (see catch-up). Default:
   * 30s in listen mode, 2s in poll mode, off in webhook mode (MinIO's queue is durable).
   */
  FAAS_CATCHUP_INTERVAL: duration.optional(),
  /** Token MinIO's webhook target presents; default: the file services:up writes in the state dir. */
  FAAS_MINIO_EVENTS_TOKEN: z
    .string()
    .regex(/^\S{16,}$/, 'at least 16 characters, no whitespace')
    .optional(),
  /** Requests per second one source may send to webhooks and the invoke API (burst: twice that). */
  FAAS_RATE_LIMIT: wholeNumber.pipe(z.number().min(1)).default(5000),
  /** OCI runtime for function containers (e.g. `runsc` for gVisor); Docker's default when unset. */
  FAAS_OCI_RUNTIME: z
    .string()
    .regex(/^[\w.-]+$/, 'a runtime name such as runsc')
    .optional(),
  /** Docker network for functions with `network: outbound` (created by the operator). */
  FAAS_OUTBOUND_NETWORK: z
    .string()
    .regex(/^[\w.-]+$/, 'a Docker network name')
    .default('faas-outbound'),
  /**
   * Longest a client may take to send a request's headers (slow-loris clients are cut off).
   * Proxies send headers at once, so this can be short.
   */
  FAAS_HEADERS_TIMEOUT: duration.default('10s'),
  /** Longest a client may take to send a whole request, body included (not the response). */
  FAAS_REQUEST_TIMEOUT: duration.default('60s'),
  /**
   * How long an idle keep-alive connection stays open. Longer than the idle timeout of a proxy's
   * pooled upstream connections (nginx: 60s), so the proxy, not the platform, closes them.
   */
  FAAS_KEEPALIVE_TIMEOUT: duration.default('65s'),
  /** Connections one source address may hold open at once; more are refused as they connect. */
  FAAS_MAX_CONNECTIONS_PER_SOURCE: wholeNumber.pipe(z.number().min(1)).default(256),
  /**
   * Reverse proxies (addresses and CIDR networks, comma-separated) whose `X-Forwarded-For` names
   * the client: per-source rate limits, connection caps and webhook events' `sourceIp` then see
   * the client, not the proxy. Default: none (the socket's peer is the client).
   */
  FAAS_TRUSTED_PROXIES: z
    .string()
    .refine(
      (text) => {
        try {
          parseTrustedProxies(text);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'addresses or CIDR networks separated by commas, such as 127.0.0.1, 10.0.0.0/8' },
    )
    .optional(),
  /** A second bearer token that reads /metrics only (FAAS_API_TOKEN reads it too). */
  FAAS_METRICS_TOKEN: z
    .string()
    .regex(/^\S{16,}$/, 'at least 16 characters, no whitespace')
    .optional(),
  /** RabbitMQ for queue triggers with `broker: amqp` that name no `url` variable. */
  FAAS_AMQP_URL: z.string().url().default('amqp://127.0.0.1:5672'),
  /** NATS (with JetStream) for queue triggers with `broker: nats` that name no `url` variable. */
  FAAS_NATS_URL: z.string().url().default('nats://127.0.0.1:4222'),
  /** The bucket that holds deployed code by content hash; no function's grants may name it. */
  FAAS_CODE_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name (3 to 63 lowercase letters, digits, . and -)')
    .default('faas-code'),
  /**
   * Names the set of platform processes that share deployed functions on one Redis: processes
   * with the same cluster serve the same versions; a `faas up` makes that set match its manifest.
   */
  FAAS_CLUSTER: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'up to 40 lowercase letters, digits and -')
    .default('faas'),
  /**
   * This host's Docker engine, read as the docker CLI reads it: `unix:///path/to/docker.sock`
   * (default /var/run/docker.sock) or `tcp://host:port`; with DOCKER_TLS_VERIFY (or
   * DOCKER_CERT_PATH), over TLS with the ca.pem, cert.pem and key.pem of DOCKER_CERT_PATH
   * (default ~/.docker). Checked by the roles that use an engine (see pool/engine-host.ts).
   */
  DOCKER_HOST: z.string().optional(),
  DOCKER_TLS_VERIFY: z.string().optional(),
  DOCKER_CERT_PATH: z.string().optional(),
  FAAS_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema> & { stateDir: string; cacheDir: string; apiHost: string };

/** Thrown for a setting that cannot be used; the one-line message names each variable. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
}

/** Variables whose values are never repeated in an error message. */
const SECRET_SETTINGS = new Set(['S3_SECRET_ACCESS_KEY', 'FAAS_API_TOKEN', 'FAAS_MINIO_EVENTS_TOKEN']);

/** Zod's messages, reworded as what the variable must be. */
const settingMessages: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_format':
      return iss.format === 'url' ? 'a URL' : undefined;
    case 'invalid_value':
      return `one of: ${iss.values.join(', ')}`;
    case 'too_small':
      return `at least ${String(iss.minimum)}`;
    case 'too_big':
      return `at most ${String(iss.maximum)}`;
    case 'invalid_type':
      return iss.expected === 'number' || iss.expected === 'int' ? 'a whole number' : undefined;
    default:
      return undefined;
  }
};

/** `FAAS_PORT="abc" must be a whole number`, without the value of a secret. */
function settingProblem(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0]);
  const value = SECRET_SETTINGS.has(name) ? '' : `=${JSON.stringify(env[name])}`;
  return `${name}${value} must be ${issue.message}`;
}

const LOOPBACK = /^(https?:\/\/)?(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

/** True for an endpoint on this machine's loopback interface. */
export function isLoopback(url: string): boolean {
  return LOOPBACK.test(url);
}

/**
 * Validates `env` (normally `process.env`) and fills the defaults that match `npm run services:up`.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(
    Object.fromEntries(
      Object.entries(env).filter(([k, v]) => k in configSchema.shape && v !== undefined && v.trim() !== ''),
    ),
    { error: settingMessages },
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => settingProblem(i, env));
    throw new ConfigError(
      `invalid setting${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
      `fix ${problems.length === 1 ? 'it' : 'them'}, or unset ${problems.length === 1 ? 'it' : 'them'} for the default (README, Configuration)`,
    );
  }
  const c = parsed.data;
  const stateDir =
    c.FAAS_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(env.HOME ?? homedir(), '.local', 'state'), 'faas');
  const cacheDir =
    c.FAAS_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'faas');
  // Without a token the API would be open to anyone who can reach it: keep it on loopback.
  const apiHost = c.FAAS_HOST ?? (c.FAAS_API_TOKEN ? '0.0.0.0' : '127.0.0.1');
  if (!c.FAAS_API_TOKEN && !['127.0.0.1', '::1', 'localhost'].includes(apiHost)) {
    throw new ConfigError(`FAAS_HOST=${apiHost} exposes the API beyond loopback`, 'set FAAS_API_TOKEN too');
  }
  for (const name of ['FAAS_HEADERS_TIMEOUT', 'FAAS_REQUEST_TIMEOUT', 'FAAS_KEEPALIVE_TIMEOUT'] as const) {
    if (parseDuration(c[name]) === 0) throw new ConfigError(`${name}=${c[name]}: must be above 0`);
  }
  // Node refuses a server whose header timeout outlasts the whole request's.
  if (parseDuration(c.FAAS_HEADERS_TIMEOUT) > parseDuration(c.FAAS_REQUEST_TIMEOUT)) {
    throw new ConfigError(
      `FAAS_HEADERS_TIMEOUT=${c.FAAS_HEADERS_TIMEOUT} is longer than FAAS_REQUEST_TIMEOUT=${c.FAAS_REQUEST_TIMEOUT}: the headers are part of the request`,
    );
  }
  return { ...c, stateDir, cacheDir, apiHost };
}

/**
 * The cluster label of this platform's containers: `FAAS_CLUSTER` and a short hash of the Redis
 * it uses (the URL without credentials), so platforms on different Redis sharing one Docker
 * engine never sweep each other's containers, even under the same cluster name.
 * @example clusterLabel(config) // 'faas.3f2a9c01'
 */
export function clusterLabel(c: Pick<Config, 'FAAS_CLUSTER' | 'REDIS_URL'>): string {
  const redis = isClusterUrl(c.REDIS_URL) ? clusterIdentity(c.REDIS_URL) : redisIdentity(c.REDIS_URL);
  return `${c.FAAS_CLUSTER}.${createHash('sha256').update(redis).digest('hex').slice(0, 8)}`;
}

/** A single Redis without its credentials: `redis://host:port[/db]`. */
function redisIdentity(raw: string): string {
  const url = new URL(raw);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** A cluster by its seeds, in any order and without credentials. */
function clusterIdentity(raw: string): string {
  const seeds = parseClusterUrl(raw).seeds.map((s) => `${s.host}:${s.port}`);
  return `redis+cluster://${seeds.sort().join(',')}`;
}

/** Warnings worth printing at start (not errors: the platform still runs). */
export function configWarnings(c: Config): string[] {
  const warnings: string[] = [];
  if (c.S3_ACCESS_KEY_ID === 'minioadmin' && !isLoopback(c.S3_ENDPOINT)) {
    warnings.push(
      `S3_ENDPOINT ${c.S3_ENDPOINT} is not on loopback but uses the default minioadmin credentials`,
    );
  }
  return warnings;
}
