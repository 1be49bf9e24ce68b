import { invocationId } from '../../src/queue/names.js';
import type { InvocationRecord } from '../../src/queue/records.js';

/** A record of `fn`'s invocation with dedup key `key`: succeeded with `{ key }` unless told otherwise. */
export function recordOf(
  fn: string,
  key: string,
  o: { result?: unknown; status?: InvocationRecord['status'] } = {},
): InvocationRecord {
  return {
    id: invocationId(fn, key),
    function: fn,
    status: o.status ?? 'succeeded',
    result: 'result' in o ? o.result : { key },
    logs: [],
    attempts: 1,
    cold: false,
    source: 'invoke',
    timings: { enqueuedAt: Date.now(), finishedAt: Date.now() },
  };
}
