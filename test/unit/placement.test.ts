import { describe, expect, it } from 'vitest';
import { pickContainer, type SlotView } from '../../src/pool/placement.js';

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
