import type { BucketTrigger, FunctionSpec } from '../../manifest/types.js';

/** The server-side filter of one listen stream. */
export interface ListenFilter {
  prefix: string;
  suffix: string;
  /** S3 event names in the `s3:` form, wildcards allowed; never empty. */
  events: string[];
}

/**
 * One listen stream per bucket any bucket trigger names. When a single trigger uses the bucket,
 * its prefix, suffix and events filter on the server (less traffic); otherwise the stream takes
 * every key and the union of events, and routing filters in code. Pure.
 * @example listenPlan(functions).get('uploads') // { prefix: 'csv/', suffix: '.csv', events: [...] }
 */
export function listenPlan(functions: FunctionSpec[]): Map<string, ListenFilter> {
  const byBucket = new Map<string, BucketTrigger[]>();
  for (const fn of functions) {
    for (const t of fn.triggers) {
      if (t.type !== 'bucket') continue;
      const list = byBucket.get(t.bucket) ?? [];
      list.push(t);
      byBucket.set(t.bucket, list);
    }
  }
  const plan = new Map<string, ListenFilter>();
  for (const [bucket, triggers] of byBucket) {
    const only = triggers.length === 1 ? triggers[0] : undefined;
    const events = [...new Set(triggers.flatMap((t) => t.events))].map((e) =>
      e.startsWith('s3:') ? e : `s3:${e}`,
    );
    plan.set(
      bucket,
      only ? { prefix: only.prefix, suffix: only.suffix, events } : { prefix: '', suffix: '', events },
    );
  }
  return plan;
}
