import { describe, expect, it } from 'vitest';
import { decide, hostBacklog, type ScaleContainer, type ScaleInput } from '../../src/pool/autoscale.js';

/**
 * The one growth policy as the pool runs it: `hostBacklog` (the queue's last reading raised by
 * what the pool knows now) fed to `decide`. The cases the pool used to decide on its own (a lease
 * finding no slot, a full host) are rows here.
 */

function containers(spec: string): ScaleContainer[] {
  // `r0@100 s b2@50 d1` → ready idle since 100, starting, ready with 2 in flight, draining with 1.
  return spec
    .split(' ')
    .filter(Boolean)
    .map((t, i) => {
      const m = /^([rsbd])(\d*)(?:@(\d+))?$/.exec(t);
      if (!m) throw new Error(`bad container ${t}`);
      const [, kind, n, at] = m as unknown as [string, string, string, string | undefined];
      return {
        name: `c${i}`,
        inFlight: Number(n || 0),
        lastUsed: Number(at ?? 0),
        state: kind === 's' ? 'starting' : kind === 'd' ? 'draining' : 'ready',
      };
    });
}

function input(fn: string, o: Partial<ScaleInput> & { pool?: string }): ScaleInput {
  return {
    fn,
    waiting: 0,
    active: 0,
    oldestWaitMs: 0,
    concurrency: 1,
    min: 0,
    max: 10,
    idleTimeoutMs: 60_000,
    containers: containers(o.pool ?? ''),
    ...o,
  };
}

describe('hostBacklog', () => {
  it.each([
    [
      'no reading yet, 3 invocations wait here',
      undefined,
      { waiters: 3, inFlight: 0, oldestWaiterMs: 40 },
      { waiting: 0, active: 3, oldestWaitMs: 40 },
    ],
    [
      'a reading decides: a momentary queue for a slot does not grow the pool',
      { waiting: 0, active: 2, oldestWaitMs: 0 },
      { waiters: 1, inFlight: 2, oldestWaiterMs: 10 },
      { waiting: 0, active: 2, oldestWaitMs: 0 },
    ],
    [
      'the queue knows more (other hosts, waiting jobs)',
      { waiting: 50, active: 9, oldestWaitMs: 300 },
      { waiters: 1, inFlight: 2, oldestWaiterMs: 5 },
      { waiting: 50, active: 9, oldestWaitMs: 300 },
    ],
    [
      'nothing anywhere',
      undefined,
      { waiters: 0, inFlight: 0, oldestWaiterMs: 0 },
      { waiting: 0, active: 0, oldestWaitMs: 0 },
    ],
  ])('%s', (_name, observed, local, expected) => {
    expect(hostBacklog(observed, local)).toEqual(expected);
  });
});

describe('the growth policy on the lease path', () => {
  const now = 100_000;
  it.each<[string, ScaleInput[], number, Array<{ fn: string; start: number; drain: string[] }>]>([
    [
      'a first call with no container and no reading starts one',
      [input('a', hostBacklog(undefined, { waiters: 1, inFlight: 0, oldestWaiterMs: 0 }))],
      8,
      [{ fn: 'a', start: 1, drain: [] }],
    ],
    [
      'a burst before the first reading starts one container per waiting invocation, within max',
      [
        input('a', {
          ...hostBacklog(undefined, { waiters: 12, inFlight: 1, oldestWaiterMs: 5 }),
          max: 4,
          pool: 'b1',
        }),
      ],
      8,
      [{ fn: 'a', start: 3, drain: [] }],
    ],
    [
      'containers already starting count: nothing more starts',
      [
        input('a', {
          ...hostBacklog(undefined, { waiters: 2, inFlight: 0, oldestWaiterMs: 5 }),
          pool: 's s',
        }),
      ],
      8,
      [{ fn: 'a', start: 0, drain: [] }],
    ],
    [
      'a full host makes room: the idle container of another function drains for a waiting one',
      [
        input('a', hostBacklog(undefined, { waiters: 1, inFlight: 0, oldestWaiterMs: 20 })),
        input('b', { pool: `r0@${now - 1000} b1` }),
      ],
      2,
      [
        { fn: 'a', start: 0, drain: [] },
        { fn: 'b', start: 0, drain: ['c0'] },
      ],
    ],
    [
      'a full host of busy containers: no one is interrupted, the busiest function gives back its excess',
      [
        input('a', hostBacklog(undefined, { waiters: 1, inFlight: 0, oldestWaiterMs: 20 })),
        input('b', { active: 2, pool: 'b1 b1' }),
      ],
      2,
      [
        { fn: 'a', start: 0, drain: [] },
        { fn: 'b', start: 0, drain: ['c0'] },
      ],
    ],
    [
      'a minimum is kept even with nothing to do',
      [input('a', { min: 2 })],
      8,
      [{ fn: 'a', start: 2, drain: [] }],
    ],
  ])('%s', (_name, inputs, cap, expected) => {
    expect(decide(inputs, cap, now).map(({ fn, start, drain }) => ({ fn, start, drain }))).toEqual(expected);
  });
});
