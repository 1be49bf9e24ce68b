import type { Redis } from 'ioredis';
import { queueName, usingClusterKeys } from './names.js';

/**
 * A bounded per-function index of finished invocations: a sorted set scored by when each
 * finished, whose members carry what a list or a percentile needs (id, status, error kind,
 * duration, cold), so listing and stats never read the records themselves. Written in the same
 * Redis call as the record (see RecordStore); trimmed to `INDEX_CAP` members and to the records'
 * TTL, so it holds no id whose record has expired.
 */

/** Members kept per function: the newest this many finished invocations. */
export const INDEX_CAP = 2000;

/** The sorted set of one function's finished invocations (in its queue's slot on a cluster). */
export const indexKey = (fn: string): string =>
  usingClusterKeys() ? `faas:fnidx:${queueName(fn)}` : `faas:fnidx:${fn}`;

export interface IndexEntry {
  id: string;
  status: 'succeeded' | 'failed';
  /** The error kind of a failed invocation. */
  kind?: string;
  durationMs: number;
  cold: boolean;
  /** When the record was written (the sorted set's score). */
  finishedAt: number;
}

/** The fields of an invocation record the index keeps (structural: records.ts imports this file). */
export interface Indexed {
  id: string;
  status: string;
  error?: { kind: string };
  cold: boolean;
  timings: { durationMs?: number };
}

/** Only final outcomes are indexed: an attempt that will be retried is not yet an invocation's end. */
export function indexable(record: Indexed): boolean {
  return record.status === 'succeeded' || record.status === 'failed';
}

/** `id status kind durationMs cold`: spaces never occur in ids or error kinds. */
export function encodeEntry(record: Indexed): string {
  return [
    record.id,
    record.status,
    record.error?.kind ?? '-',
    Math.round(record.timings.durationMs ?? 0),
    record.cold ? 1 : 0,
  ].join(' ');
}

export function decodeEntry(member: string, score: number): IndexEntry | undefined {
  const [id, status, kind, ms, cold] = member.split(' ');
  if (!id || (status !== 'succeeded' && status !== 'failed')) return undefined;
  return {
    id,
    status,
    kind: kind && kind !== '-' ? kind : undefined,
    durationMs: Number(ms) || 0,
    cold: cold === '1',
    finishedAt: score,
  };
}

export interface Stats {
  count: number;
  failures: number;
  /** Handler duration percentiles in ms; null when nothing finished in the window. */
  p50: number | null;
  p99: number | null;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** Count, failures and duration percentiles of entries (pure: the caller picks the window). */
export function summarize(entries: IndexEntry[]): Stats {
  const durations = entries.map((e) => e.durationMs).sort((a, b) => a - b);
  return {
    count: entries.length,
    failures: entries.filter((e) => e.status === 'failed').length,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
  };
}

/**
 * Keeps the newest entry per id: a re-driven dead letter finishes twice under one id.
 * Entries come newest first.
 */
function newestPerId(entries: IndexEntry[]): IndexEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

/** Reads the per-function index. */
export class InvocationIndex {
  constructor(private readonly redis: Redis) {}

  /**
   * Every finish after `since` (ms), newest first, at most INDEX_CAP: an invocation re-driven
   * and finished again appears once per finish.
   */
  async since(fn: string, since: number): Promise<IndexEntry[]> {
    const raw = await this.redis.zrevrangebyscore(indexKey(fn), '+inf', `(${since}`, 'WITHSCORES');
    return pairs(raw);
  }

  /**
   * The newest invocations matching a filter, newest first. Reads the index in pages until
   * `limit` match, so a rare status or kind is found among many others.
   */
  async list(
    fn: string,
    filter: { status?: 'succeeded' | 'failed'; kind?: string },
    limit: number,
  ): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const seen = new Set<string>();
    const page = 500;
    for (let start = 0; start < INDEX_CAP && out.length < limit; start += page) {
      const raw = await this.redis.zrevrange(indexKey(fn), start, start + page - 1, 'WITHSCORES');
      for (const e of pairs(raw)) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        if (filter.status && e.status !== filter.status) continue;
        if (filter.kind && e.kind !== filter.kind) continue;
        out.push(e);
        if (out.length >= limit) break;
      }
      if (raw.length < page * 2) break;
    }
    return out;
  }

  /** Stats of each function over the last `windowMs`, read in one round trip. */
  async stats(fns: string[], windowMs: number, now: number): Promise<Record<string, Stats>> {
    const since = `(${now - windowMs}`;
    let results: Array<[Error | null, unknown]>;
    if (usingClusterKeys()) {
      // A cluster pipelines only the keys of one node: one call per function, sent together.
      results = await Promise.all(
        fns.map((fn) =>
          this.redis.zrevrangebyscore(indexKey(fn), '+inf', since, 'WITHSCORES').then(
            (raw): [Error | null, unknown] => [null, raw],
            (err: Error): [Error | null, unknown] => [err, null],
          ),
        ),
      );
    } else {
      const pipeline = this.redis.pipeline();
      for (const fn of fns) pipeline.zrevrangebyscore(indexKey(fn), '+inf', since, 'WITHSCORES');
      results = (await pipeline.exec()) ?? [];
    }
    const out: Record<string, Stats> = {};
    fns.forEach((fn, i) => {
      const [err, raw] = results[i] ?? [null, []];
      if (err) throw err;
      out[fn] = summarize(newestPerId(pairs(raw as string[])));
    });
    return out;
  }
}

function pairs(raw: string[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const e = decodeEntry(raw[i] as string, Number(raw[i + 1]));
    if (e) out.push(e);
  }
  return out;
}
