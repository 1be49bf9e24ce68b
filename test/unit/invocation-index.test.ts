import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  encodeEntry,
  indexable,
  summarize,
  type IndexEntry,
} from '../../src/queue/invocation-index.js';

const entry = (durationMs: number, status: IndexEntry['status'] = 'succeeded'): IndexEntry => ({
  id: `f.${'0'.repeat(32)}`,
  status,
  durationMs,
  cold: false,
  finishedAt: 1,
});

describe('invocation index entries', () => {
  it('round-trips what a list row needs', () => {
    const member = encodeEntry({
      id: 'fn.0123456789abcdef0123456789abcdef',
      status: 'failed',
      error: { kind: 'timeout' },
      cold: true,
      timings: { durationMs: 12.6 },
    });
    expect(member).toBe('fn.0123456789abcdef0123456789abcdef failed timeout 13 1');
    expect(decodeEntry(member, 42)).toEqual({
      id: 'fn.0123456789abcdef0123456789abcdef',
      status: 'failed',
      kind: 'timeout',
      durationMs: 13,
      cold: true,
      finishedAt: 42,
    });
  });

  it('skips members it cannot read', () => {
    expect(decodeEntry('garbage', 1)).toBeUndefined();
    expect(decodeEntry('id queued - 1 0', 1)).toBeUndefined();
  });

  it.each([
    ['succeeded', true],
    ['failed', true],
    ['queued', false],
    ['running', false],
  ] as const)('a record %s is indexed: %s', (status, yes) => {
    expect(indexable({ id: 'x', status, cold: false, timings: {} })).toBe(yes);
  });
});

describe('summarize', () => {
  const cases: Array<[string, IndexEntry[], ReturnType<typeof summarize>]> = [
    ['nothing', [], { count: 0, failures: 0, p50: null, p99: null }],
    ['one', [entry(7)], { count: 1, failures: 0, p50: 7, p99: 7 }],
    [
      'a hundred, two failed',
      Array.from({ length: 100 }, (_, i) => entry(i + 1, i < 2 ? 'failed' : 'succeeded')).reverse(),
      { count: 100, failures: 2, p50: 50, p99: 99 },
    ],
    ['unsorted', [entry(30), entry(10), entry(20)], { count: 3, failures: 0, p50: 20, p99: 30 }],
  ];
  it.each(cases)('%s', (_name, entries, stats) => {
    expect(summarize(entries)).toEqual(stats);
  });
});
