import { describe, expect, it } from 'vitest';
import {
  containersToStart,
  idleToStop,
  pickContainer,
  type GrowthInput,
  type IdleView,
  type SlotView,
} from '../../src/pool/placement.js';

/** A ready container written as `name:inFlight@lastUsed`, e.g. `a:0@100`. */
function slot(spec: string): SlotView {
  const m = /^(\w+):(\d+)@(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad slot spec ${spec}`);
  return { name: m[1] as string, inFlight: Number(m[2]), lastUsed: Number(m[3]) };
}

describe('pickContainer', () => {
  const cases: Array<[string, string[], number, string | undefined]> = [
    ['no ready containers', [], 1, undefined],
    ['the only free container', ['a:0@100'], 1, 'a'],
    ['none free at concurrency 1', ['a:1@100', 'b:1@200'], 1, undefined],
    ['skips the busy one', ['a:1@300', 'b:0@100'], 1, 'b'],
    ['tie on inFlight → most recently used', ['a:0@100', 'b:0@300', 'c:0@200'], 1, 'b'],
    ['tie order does not matter', ['b:0@300', 'a:0@100'], 1, 'b'],
    ['least busy wins over more recently used', ['a:2@900', 'b:1@100', 'c:3@950'], 4, 'b'],
    ['concurrency 4: full ones skipped', ['a:4@900', 'b:3@100'], 4, 'b'],
    ['concurrency 4: all full', ['a:4@900', 'b:4@100'], 4, undefined],
    ['concurrency 2: tie among partly busy', ['a:1@100', 'b:1@500', 'c:2@999'], 2, 'b'],
    ['over-full (inFlight > concurrency) never chosen', ['a:5@999'], 4, undefined],
  ];

  it.each(cases)('%s', (_label, ready, concurrency, expected) => {
    expect(pickContainer(ready.map(slot), concurrency)?.name).toBe(expected);
  });

  it('returns the same object it was given, with its extra fields', () => {
    const ready = [{ ...slot('a:0@1'), id: 'x1' }];
    expect(pickContainer(ready, 1)).toBe(ready[0]);
  });
});

describe('containersToStart', () => {
  const base: GrowthInput = {
    waiting: 0,
    concurrency: 1,
    starting: 0,
    existing: 0,
    max: 10,
    hostTotal: 0,
    hostCap: 100,
  };

  const cases: Array<[string, Partial<GrowthInput>, number]> = [
    ['nothing waiting', { waiting: 0 }, 0],
    ['nothing waiting, some starting', { waiting: 0, starting: 2, existing: 2 }, 0],
    ['one waiting', { waiting: 1 }, 1],
    ['three waiting', { waiting: 3 }, 3],
    ['burst beyond max is capped at max', { waiting: 50, max: 10 }, 10],
    ['burst beyond max minus existing', { waiting: 50, existing: 7, max: 10 }, 3],
    ['host cap leaves less room than max', { waiting: 20, hostTotal: 97, hostCap: 100 }, 3],
    ['host full', { waiting: 5, hostTotal: 100, hostCap: 100 }, 0],
    ['host over its cap never goes negative', { waiting: 5, hostTotal: 105, hostCap: 100 }, 0],
    ['starting containers cover all waiting', { waiting: 3, starting: 3, existing: 3 }, 0],
    ['more starting than waiting', { waiting: 2, starting: 5, existing: 5 }, 0],
    ['starting cover part of the waiting', { waiting: 5, starting: 2, existing: 2 }, 3],
    ['concurrency 4: 5 waiting → 2 containers', { waiting: 5, concurrency: 4 }, 2],
    ['concurrency 4: 4 waiting → 1 container', { waiting: 4, concurrency: 4 }, 1],
    ['concurrency 4: 1 waiting → 1 container', { waiting: 1, concurrency: 4 }, 1],
    ['concurrency 4: 9 waiting, 1 starting', { waiting: 9, concurrency: 4, starting: 1, existing: 1 }, 2],
    ['existing at max', { waiting: 5, existing: 10, max: 10 }, 0],
    ['existing above max (max lowered)', { waiting: 5, existing: 12, max: 10 }, 0],
    ['both caps: the smaller wins', { waiting: 30, existing: 4, max: 10, hostTotal: 98, hostCap: 100 }, 2],
  ];

  it.each(cases)('%s', (_label, overrides, expected) => {
    expect(containersToStart({ ...base, ...overrides })).toBe(expected);
  });
});

describe('idleToStop', () => {
  const NOW = 1_000_000;
  const TIMEOUT = 60_000;

  /** An idle-view container: `name`, inFlight, and how long ago it was last used. */
  function idle(name: string, inFlight: number, idleFor: number): IdleView {
    return { name, inFlight, lastUsed: NOW - idleFor, createdAt: 0 };
  }

  const cases: Array<[string, IdleView[], number, string[]]> = [
    ['no containers', [], 0, []],
    ['idle timeout not reached', [idle('a', 0, TIMEOUT - 1)], 0, []],
    ['exactly at the timeout boundary is stopped', [idle('a', 0, TIMEOUT)], 0, ['a']],
    ['past the timeout', [idle('a', 0, TIMEOUT + 1)], 0, ['a']],
    ['min 1 keeps the only container', [idle('a', 0, 10 * TIMEOUT)], 1, []],
    [
      'min 1 of 3 idle: stops the two oldest',
      [idle('a', 0, 2 * TIMEOUT), idle('b', 0, 5 * TIMEOUT), idle('c', 0, 3 * TIMEOUT)],
      1,
      ['b', 'c'],
    ],
    ['min equals count', [idle('a', 0, 2 * TIMEOUT), idle('b', 0, 3 * TIMEOUT)], 2, []],
    ['min above count', [idle('a', 0, 2 * TIMEOUT)], 5, []],
    ['busy container never chosen, even when long idle', [idle('a', 1, 10 * TIMEOUT)], 0, []],
    ['busy ones skipped, idle ones taken', [idle('a', 2, 10 * TIMEOUT), idle('b', 0, 2 * TIMEOUT)], 0, ['b']],
    [
      'oldest idle first',
      [idle('a', 0, 2 * TIMEOUT), idle('b', 0, 4 * TIMEOUT), idle('c', 0, 3 * TIMEOUT)],
      0,
      ['b', 'c', 'a'],
    ],
    ['mix: fresh kept, stale stopped', [idle('a', 0, 1000), idle('b', 0, TIMEOUT * 2)], 0, ['b']],
    // min counts the busy one as kept: 3 ready, min 2 → at most one stopped.
    [
      'min counts busy containers as kept',
      [idle('a', 3, 0), idle('b', 0, 3 * TIMEOUT), idle('c', 0, 2 * TIMEOUT)],
      2,
      ['b'],
    ],
  ];

  it.each(cases)('%s', (_label, ready, min, expected) => {
    expect(idleToStop(ready, NOW, TIMEOUT, min).map((c) => c.name)).toEqual(expected);
  });

  it('does not reorder the caller’s array', () => {
    const ready = [idle('a', 0, 2 * TIMEOUT), idle('b', 0, 4 * TIMEOUT)];
    idleToStop(ready, NOW, TIMEOUT, 0);
    expect(ready.map((c) => c.name)).toEqual(['a', 'b']);
  });
});
