import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';
import { formatPath } from './errors.js';
import { RUNTIME_NAMES } from './types.js';
import { LIMITS, always, duration, envName, grant, memory, wrongType } from './fields.js';
import { FUNCTION_NAME_PATTERN, HANDLER_PATTERN, handlerProblem, webhookPathProblem } from './rules.js';
import {
  bucketTrigger,
  queue,
  queueTrigger,
  schedule,
  scheduleTrigger,
  trigger,
  webhook,
  webhookTrigger,
} from './trigger-schema.js';

const scale = z
  .strictObject({
    min: z.int().min(0).max(LIMITS.maxScale).default(0).describe('Containers kept warm (0 scales to zero)'),
    max: z.int().min(1).max(LIMITS.maxScale).default(10),
    idleTimeout: duration(LIMITS.maxWaitMs, 'positive')
      .default('60s')
      .describe('Idle time before a container stops'),
  })
  .superRefine((s, ctx) => {
    if (typeof s.min === 'number' && typeof s.max === 'number' && s.min > s.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must not exceed scale.max (${s.max})` });
    }
  }, always);

const retry = z
  .strictObject({
    attempts: z
      .int()
      .min(1)
      .max(LIMITS.maxRetryAttempts)
      .default(3)
      .describe('Tries in all, the first included'),
    backoff: duration(LIMITS.maxWaitMs, 'zero allowed')
      .default('1s')
      .describe('Delay before the first retry; later ones wait longer, up to maxBackoff'),
    maxBackoff: duration(LIMITS.maxWaitMs, 'zero allowed').default('1m'),
  })
  .superRefine((r, ctx) => {
    const ms = (d: unknown) => (typeof d === 'string' && DURATION_PATTERN.test(d) ? parseDuration(d) : NaN);
    if (ms(r.maxBackoff) < ms(r.backoff)) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBackoff'],
        message: `must be at least retry.backoff (${r.backoff})`,
      });
    }
  }, always);

/** One function's settings as written. */
export const functionSchema = z.strictObject({
  handler: z
    .string()
    .superRefine((h, ctx) => {
      const problem = handlerProblem(h);
      if (problem) ctx.addIssue(problem);
    })
    .meta({ pattern: HANDLER_PATTERN.source })
    .describe('<file without extension>.<export>, relative to the manifest: csv-summary/index.handler'),
  runtime: z
    .enum(RUNTIME_NAMES)
    .default('node20')
    .describe('The language and runtime image the handler runs in: node20 or python3.11'),
  timeout: duration(LIMITS.maxTimeoutMs, 'positive')
    .default('30s')
    .describe('Longest one invocation may run (at most 15m)'),
  memory: memory.default('128Mi').describe('Memory limit of a container: 128Mi, 1Gi (32Mi to 8Gi)'),
  cpu: z
    .number({ error: wrongType('a number of CPUs, like 0.5') })
    .min(LIMITS.minCpu, { error: `must be at least ${LIMITS.minCpu} (Docker's smallest CPU share)` })
    .max(LIMITS.maxCpu)
    .default(1)
    .describe('CPUs per container, fractional: 0.5 is half a core (0.01 to 16)'),
  concurrency: z
    .int()
    .min(1)
    .max(LIMITS.maxConcurrency)
    .default(1)
    .describe('Invocations at once per container'),
  scale: scale.prefault({}),
  retry: retry.prefault({}),
  env: z
    .record(envName, z.string({ error: wrongType('a string: quote it, like "3" or "true"') }))
    .default({})
    .describe('Environment variables for the handler; values are strings'),
  storage: z
    .strictObject({ read: z.array(grant).default([]), write: z.array(grant).default([]) })
    .prefault({})
    .describe('Buckets the handler may read and write through context.storage'),
  network: z
    .enum(['none', 'outbound'])
    .default('none')
    .describe('none: no network access; outbound: may open connections out'),
  triggers: z
    .array(trigger)
    .default([])
    .describe('What runs the function: bucket events, webhooks, queue messages and schedules'),
});

/** The manifest as written in YAML; its JSON Schema is generated from this. */
export const manifestSchema = z
  .strictObject({
    version: z.literal(1, {
      error: (iss) =>
        iss.input === undefined ? 'required (version: 1)' : 'must be 1, the only version there is',
    }),
    functions: z
      .record(z.string().meta({ pattern: FUNCTION_NAME_PATTERN.source }), functionSchema, {
        error: (iss) =>
          iss.code === 'invalid_type' && iss.input === undefined
            ? 'required: a mapping from function names to their settings (functions: {} for none)'
            : wrongType('a mapping from function names to their settings')(iss),
      })
      .describe('Function name (lowercase letters, digits, -) to its settings'),
  })
  .superRefine((m, ctx) => {
    if (m.functions && typeof m.functions === 'object') checkFunctions(m.functions, ctx);
  }, always)
  .meta({ title: 'faas functions manifest' });

export type RawManifest = z.output<typeof manifestSchema>;
export type RawFunction = z.output<typeof functionSchema>;

/** Checks across functions: names, and each webhook method and path used once. */
function checkFunctions(functions: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>): void {
  const webhooks = new Map<string, string>();
  for (const [name, fn] of Object.entries(functions)) {
    if (!FUNCTION_NAME_PATTERN.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['functions', name],
        message: `"${name}" is not a function name: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (no dots)`,
      });
    }
    const triggers = (fn as { triggers?: unknown } | undefined)?.triggers;
    if (!Array.isArray(triggers)) continue;
    triggers.forEach((t: unknown, i) => {
      const w = (t as { webhook?: { path?: unknown; method?: unknown } } | undefined)?.webhook;
      if (typeof w?.path !== 'string' || webhookPathProblem(w.path)) return;
      const methods = [w.method ?? 'POST'].flat().filter((m): m is string => typeof m === 'string');
      const path = ['functions', name, 'triggers', i, 'webhook', 'path'];
      for (const m of new Set(methods.map((s) => s.toUpperCase()))) {
        const key = `${m} ${w.path}`;
        const first = webhooks.get(key);
        if (first) ctx.addIssue({ code: 'custom', path, message: `${key} is already used by ${first}` });
        else webhooks.set(key, formatPath(path.slice(0, 4)));
      }
    });
  }
}

/** Every field name the manifest knows, to suggest one for a misspelled field. */
export const FIELD_NAMES: readonly string[] = [
  ...new Set(
    [
      manifestSchema,
      functionSchema,
      bucketTrigger,
      webhookTrigger,
      webhook,
      queueTrigger,
      queue,
      scheduleTrigger,
      schedule,
      scale,
      retry,
    ].flatMap((s) => Object.keys(s.shape)),
  ),
  'read',
  'write',
];
