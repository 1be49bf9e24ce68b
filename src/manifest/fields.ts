import { z } from 'zod';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../util/duration.js';
import {
  BUCKET_NAME_HINT,
  ENV_NAME_PATTERN,
  RESERVED_ENV_PREFIXES,
  bucketNameProblem,
  grantProblem,
} from './rules.js';
import { SIZE_PATTERN, formatSize, parseSize } from './size.js';

// The field types the manifest's schema is built from.

/** The bounds a manifest may ask for. */
export const LIMITS = {
  maxTimeoutMs: 15 * 60_000,
  minMemoryBytes: 32 * 2 ** 20,
  maxMemoryBytes: 8 * 2 ** 30,
  /** Docker refuses a smaller CPU quota (NanoCpus below 10^7). */
  minCpu: 0.01,
  maxCpu: 16,
  maxConcurrency: 1000,
  maxScale: 1000,
  maxRetryAttempts: 100,
  /** Longest idle timeout or retry delay. */
  maxWaitMs: 24 * 3_600_000,
  /** Largest `maxBacklog` of a queue trigger. */
  maxBacklog: 100_000,
} as const;

/** Replaces zod's type message with `expected` when a value is present but of the wrong kind. */
export const wrongType = (expected: string) => (iss: z.core.$ZodRawIssue) =>
  iss.code === 'invalid_type' && iss.input !== undefined ? `must be ${expected}` : undefined;

/**
 * Cross-field refinements run even when a field failed, so every problem is reported at once;
 * they only need the value to be a mapping, and check each field's type themselves.
 */
export const always = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
};

const durationHint = 'a duration such as 500ms, 30s, 1m or 1h';
/** A duration string up to `maxMs`; zero allowed only when `zero` is. */
export function duration(maxMs: number, zero: 'zero allowed' | 'positive') {
  return z
    .string({ error: wrongType(durationHint) })
    .superRefine((text, ctx) => {
      if (!DURATION_PATTERN.test(text)) return ctx.addIssue(`must be ${durationHint}, not "${text}"`);
      const ms = parseDuration(text);
      if (ms === 0 && zero === 'positive') ctx.addIssue('must be longer than 0');
      if (ms > maxMs) ctx.addIssue(`must be at most ${formatDuration(maxMs)}`);
    })
    .meta({ pattern: DURATION_PATTERN.source });
}

const sizeHint = 'a size such as 128Mi, 1Gi or 512M';
/** A memory size between the limits. */
export const memory = z
  .string({ error: wrongType(sizeHint) })
  .superRefine((text, ctx) => {
    if (!SIZE_PATTERN.test(text)) return ctx.addIssue(`must be ${sizeHint}, not "${text}"`);
    const bytes = parseSize(text);
    if (bytes < LIMITS.minMemoryBytes) ctx.addIssue(`must be at least ${formatSize(LIMITS.minMemoryBytes)}`);
    if (bytes > LIMITS.maxMemoryBytes) ctx.addIssue(`must be at most ${formatSize(LIMITS.maxMemoryBytes)}`);
  })
  .meta({ pattern: SIZE_PATTERN.source });

/** A string checked by a rule from rules.ts; `pattern`, when given, only guides editors. */
export function ruled(rule: (s: string) => string | undefined, pattern?: string) {
  const checked = z.string().superRefine((s, ctx) => {
    const problem = rule(s);
    if (problem) ctx.addIssue(problem);
  });
  return pattern === undefined ? checked : checked.meta({ pattern });
}

/** An S3 bucket name. */
export const bucketName = ruled(bucketNameProblem, BUCKET_NAME_HINT);
/** A storage grant: `bucket` or `bucket/prefix/`. */
export const grant = ruled(grantProblem, `${BUCKET_NAME_HINT.slice(0, -1)}(/(.*/)?)?$`).describe(
  'A bucket, or keys under a prefix: "uploads" or "uploads/csv/"',
);

/** An environment variable a function may set. */
export const envName = z
  .string()
  .regex(ENV_NAME_PATTERN, 'is not a variable name: use letters, digits and _, not starting with a digit')
  .regex(
    new RegExp(`^(?!${RESERVED_ENV_PREFIXES.join('|')})`),
    `names starting with ${RESERVED_ENV_PREFIXES.slice(0, -1).join(', ')} or ${RESERVED_ENV_PREFIXES.at(-1)} are reserved for the platform`,
  );
