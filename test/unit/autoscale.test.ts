import { describe, expect, it } from 'vitest';
import {
  decide,
  shareCap,
  wantedContainers,
  type ScaleContainer,
  type ScaleInput,
} from '../../src/pool/autoscale.js';

const NOW = 1_000_000;
const ready = (name: string, inFlight = 0, idleMs = 0): ScaleContainer => ({
  name,
  inFlight,
  lastUsed: NOW - idleMs,
  state: 'ready',
});
const fn = (over: Partial<ScaleInput> = {}): ScaleInput => ({
  fn: 'f',
  waiting: 0,
  active: 0,
  oldestWaitMs: 0,
  concurrency: 1,
  min: 0,
  max: 8,
  idleTimeoutMs: 60_000,
  containers: [],
  ...over,
});

describe('wantedContainers', () => {
  it.each([
    [{ waiting: 0, active: 0, concurrency: 1, min: 0, max: 8 }, 0],
    [{ waiting: 500, active: 0, concurrency: 1, min: 0, max: 8 }, 8],
    [{ waiting: 3, active: 2, concurrency: 1, min: 0, max: 8 }, 5],
    [{ waiting: 5, active: 0, concurrency: 4, min: 0, max: 8 }, 2],
    [{ waiting: 0, active: 0, concurrency: 1, min: 2, max: 8 }, 2],
    [{ waiting: 1, active: 0, concurrency: 10, min: 0, max: 8 }, 1],
  ])('%j wants %i', (input, expected) => {
    expect(wantedContainers(input)).toBe(expected);
  });
});

describe('shareCap', () => {
  it.each([
    ['fits: everyone gets what it wants', [3, 2], [0, 0], 8, [3, 2]],
    ['contention: one each first, the rest in proportion', [8, 8], [0, 0], 6, [3, 3]],
    ['contention, uneven wants: the rest in proportion to what is still wanted', [8, 2], [0, 0], 6, [5, 1]],
    ['a small function is never starved by a big one', [100, 1], [0, 0], 4, [3, 1]],
    ['more functions than room: oldest waiting first', [5, 5, 5], [10, 300, 20], 2, [0, 1, 1]],
    ['zero wants get zero', [0, 6], [0, 0], 4, [0, 4]],
    ['cap of zero', [2, 2], [0, 0], 0, [0, 0]],
  ])('%s', (_name, wanted, urgency, cap, expected) => {
    const out = shareCap(wanted as number[], urgency as number[], cap as number);
    expect(out).toEqual(expected);
    expect(out.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(cap as number);
  });
});

describe('decide', () => {
  it('zero backlog and no containers: nothing to do', () => {
    expect(decide([fn()], 10, NOW)).toEqual([
      expect.objectContaining({ wanted: 0, desired: 0, start: 0, drain: [] }),
    ]);
  });

  it('burst: starts up to max at once', () => {
    const [d] = decide([fn({ waiting: 500, oldestWaitMs: 50 })], 20, NOW);
    expect(d).toMatchObject({ wanted: 8, desired: 8, start: 8, drain: [] });
    expect(d?.reason).toMatch(/backlog 500/);
  });

  it('burst counts containers already starting', () => {
    const starting: ScaleContainer[] = [1, 2, 3].map((i) => ({
      name: `s${i}`,
      inFlight: 0,
      lastUsed: NOW,
      state: 'starting',
    }));
    expect(decide([fn({ waiting: 500, containers: starting })], 20, NOW)[0]).toMatchObject({ start: 5 });
  });

  it('cap contention: both functions start, within the cap', () => {
    const out = decide([fn({ fn: 'a', waiting: 300 }), fn({ fn: 'b', waiting: 300 })], 6, NOW);
    expect(out.map((d) => d.start)).toEqual([3, 3]);
  });

  it('cap contention: a function holding the host drains its excess for a newcomer, busy ones included', () => {
    const a = fn({
      fn: 'a',
      waiting: 400,
      active: 6,
      containers: [1, 2, 3, 4, 5, 6].map((i) => ready(`a${i}`, 1)),
    });
    const b = fn({ fn: 'b', waiting: 50, oldestWaitMs: 2000 });
    const [da, db] = decide([a, b], 6, NOW);
    expect(db).toMatchObject({ desired: 3, start: 0 });
    expect(da?.drain).toHaveLength(3);
    expect(da?.reason).toMatch(/host cap 6 shared/);
  });

  it('min > 0: keeps min containers with no backlog, and starts them', () => {
    expect(decide([fn({ min: 2 })], 10, NOW)[0]).toMatchObject({ desired: 2, start: 2 });
    const idle = [ready('c1', 0, 120_000), ready('c2', 0, 120_000)];
    expect(decide([fn({ min: 2, containers: idle })], 10, NOW)[0]).toMatchObject({ drain: [] });
  });

  it('idle timeout not yet reached: nothing drains', () => {
    const containers = [ready('c1', 0, 30_000), ready('c2', 0, 59_999)];
    expect(decide([fn({ containers })], 10, NOW)[0]?.drain).toEqual([]);
  });

  it('idle timeout reached: idle containers drain to zero, the oldest first', () => {
    const containers = [ready('young', 0, 60_000), ready('old', 0, 90_000)];
    expect(decide([fn({ containers })], 10, NOW)[0]?.drain).toEqual(['old', 'young']);
  });

  it('busy containers never drain for idleness', () => {
    const containers = [ready('busy', 1, 120_000), ready('idle', 0, 120_000)];
    expect(decide([fn({ active: 1, containers })], 10, NOW)[0]?.drain).toEqual(['idle']);
    expect(decide([fn({ containers: [ready('busy', 1, 120_000)] })], 10, NOW)[0]?.drain).toEqual([]);
  });

  it('draining containers are not counted as capacity, and are not drained twice', () => {
    const containers: ScaleContainer[] = [{ name: 'd1', inFlight: 1, lastUsed: NOW, state: 'draining' }];
    expect(decide([fn({ waiting: 2, containers })], 10, NOW)[0]).toMatchObject({ start: 2, drain: [] });
  });

  it('scale-down from 8 to 2 under steady load drains only idle containers', () => {
    const containers = [
      ...[1, 2].map((i) => ready(`busy${i}`, 1, 0)),
      ...[3, 4, 5, 6, 7, 8].map((i) => ready(`idle${i}`, 0, 70_000)),
    ];
    const [d] = decide([fn({ active: 2, containers })], 10, NOW);
    expect(d?.desired).toBe(2);
    expect(d?.drain.sort()).toEqual(['idle3', 'idle4', 'idle5', 'idle6', 'idle7', 'idle8']);
  });
});

describe('decide under the cluster’s scale.max (max: what the ledger leaves this host; room: what it may start)', () => {
  const draining = (name: string): ScaleContainer => ({
    name,
    inFlight: 1,
    lastUsed: NOW,
    state: 'draining',
  });
  it.each<[string, Partial<ScaleInput>, { start: number; drain: number }]>([
    [
      'a burst, the other hosts hold 5 of 8: starts the 3 left',
      { waiting: 500, max: 3, room: 3 },
      { start: 3, drain: 0 },
    ],
    [
      'the other hosts hold all of max: starts none',
      { waiting: 500, max: 0, room: 0 },
      { start: 0, drain: 0 },
    ],
    [
      'room counts containers still draining or being removed (the ledger does)',
      { waiting: 500, max: 3, room: 1, containers: [ready('a', 1), draining('b')] },
      { start: 1, drain: 0 },
    ],
    [
      'no answer from the ledger yet (room absent): starts what max allows, the ledger grants',
      { waiting: 500, max: 8 },
      { start: 8, drain: 0 },
    ],
    [
      'its share shrank below what it has: the excess drains, busy ones after their invocation',
      { waiting: 500, max: 2, room: 0, containers: [ready('a', 1), ready('b', 1), ready('c', 1)] },
      { start: 0, drain: 1 },
    ],
    [
      'a container already draining for that is not drained twice, and not counted again',
      { waiting: 500, max: 2, room: 0, containers: [ready('a', 1), ready('b', 1), draining('c')] },
      { start: 0, drain: 0 },
    ],
    [
      'within its share, busy containers stay (scale-down waits for idleness)',
      { waiting: 0, active: 1, max: 3, room: 0, containers: [ready('a', 1), ready('b', 0), ready('c', 0)] },
      { start: 0, drain: 0 },
    ],
  ])('%s', (_, over, expected) => {
    const [d] = decide([fn(over)], 20, NOW);
    expect({ start: d?.start, drain: d?.drain.length }).toEqual(expected);
  });

  it('over its share, the idlest container drains first', () => {
    const [d] = decide(
      [fn({ waiting: 9, max: 1, room: 0, containers: [ready('busy', 1), ready('idle', 0)] })],
      20,
      NOW,
    );
    expect(d?.drain).toEqual(['idle']);
    expect(d?.reason).toMatch(/shared with other hosts/);
  });
});
