import { parseDuration } from '../util/duration.js';
import type { RawFunction } from './schema.js';
import { splitGrant } from './rules.js';
import { parseSize } from './size.js';
import type { FunctionSpec, Trigger } from './types.js';

/**
 * Converts one validated function into the form the platform reads: defaults already filled by
 * the schema, durations in milliseconds, sizes in bytes, triggers tagged with their type.
 */
export function toFunctionSpec(
  name: string,
  raw: RawFunction,
  handler: { file: string; exportName: string },
): FunctionSpec {
  return {
    name,
    handler: raw.handler,
    handlerFile: handler.file,
    exportName: handler.exportName,
    runtime: raw.runtime,
    timeoutMs: parseDuration(raw.timeout),
    memoryBytes: parseSize(raw.memory),
    cpu: raw.cpu,
    concurrency: raw.concurrency,
    scale: { min: raw.scale.min, max: raw.scale.max, idleTimeoutMs: parseDuration(raw.scale.idleTimeout) },
    retry: {
      attempts: raw.retry.attempts,
      backoffMs: parseDuration(raw.retry.backoff),
      maxBackoffMs: parseDuration(raw.retry.maxBackoff),
    },
    env: { ...raw.env },
    storage: { read: raw.storage.read.map(splitGrant), write: raw.storage.write.map(splitGrant) },
    network: raw.network,
    triggers: raw.triggers.map(toTrigger),
  };
}

function toTrigger(t: RawFunction['triggers'][number]): Trigger {
  if ('bucket' in t) {
    return { type: 'bucket', bucket: t.bucket, events: [...t.events], prefix: t.prefix, suffix: t.suffix };
  }
  if ('queue' in t) {
    const q = t.queue;
    return {
      type: 'queue',
      broker: q.broker,
      name: q.name,
      maxBacklog: q.maxBacklog,
      ...(q.url !== undefined && { url: q.url }),
    };
  }
  if ('schedule' in t) {
    const s = t.schedule;
    return {
      type: 'schedule',
      timezone: s.timezone,
      ...(s.cron !== undefined && { cron: s.cron }),
      ...(s.every !== undefined && { everyMs: parseDuration(s.every) }),
    };
  }
  const w = t.webhook;
  return {
    type: 'webhook',
    path: w.path,
    methods: [...new Set([w.method].flat().map((m) => m.toUpperCase()))],
    mode: w.mode,
    payload: w.payload,
    ...(w.secret !== undefined && { secret: w.secret }),
    ...(w.idempotencyHeader !== undefined && { idempotencyHeader: w.idempotencyHeader }),
    ...(w.signature !== undefined && { signature: w.signature }),
  };
}
