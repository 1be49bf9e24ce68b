import { describe, expect, it } from 'vitest';
import {
  containersToStart,
  pickContainer,
  type GrowthInput,
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
