import { describe, expect, it } from 'vitest';
import {
  IllegalTransition,
  transition,
  type ContainerState,
  type PoolContainer,
} from '../../src/pool/state.js';

function container(state: ContainerState): PoolContainer {
  return {
    name: 'c1',
    state,
    runtime: 'node20',
    inFlight: 0,
    served: 0,
    prewarmed: false,
    createdAt: 0,
    lastUsed: 0,
  };
}

const LEGAL: Array<[ContainerState, ContainerState]> = [
  ['starting', 'generic'],
  ['starting', 'loading'],
  ['starting', 'stopping'],
  ['generic', 'loading'],
  ['generic', 'stopping'],
  ['loading', 'ready'],
  ['loading', 'stopping'],
  ['ready', 'draining'],
  ['ready', 'stopping'],
  ['draining', 'ready'],
  ['draining', 'stopping'],
  ['stopping', 'dead'],
];

const ALL: ContainerState[] = ['starting', 'generic', 'loading', 'ready', 'draining', 'stopping', 'dead'];

/** Every pair that is neither legal nor a same-state no-op. */
const ILLEGAL: Array<[ContainerState, ContainerState]> = ALL.flatMap((from) =>
  ALL.filter((to) => to !== from && !LEGAL.some(([f, t]) => f === from && t === to)).map(
    (to): [ContainerState, ContainerState] => [from, to],
  ),
);

describe('container life cycle', () => {
  it.each(LEGAL)('%s → %s is allowed', (from, to) => {
    const c = container(from);
    transition(c, to);
    expect(c.state).toBe(to);
  });

  it.each([
    ['dead', 'ready'],
    ['stopping', 'ready'],
    ['generic', 'ready'],
    ['ready', 'loading'],
    ['dead', 'starting'],
    ['stopping', 'draining'],
    ['ready', 'generic'],
    ['starting', 'ready'],
    ['starting', 'dead'],
    ['ready', 'dead'],
    ['loading', 'generic'],
    ['draining', 'loading'],
  ] as Array<[ContainerState, ContainerState]>)('%s → %s throws IllegalTransition', (from, to) => {
    const c = container(from);
    expect(() => transition(c, to)).toThrow(IllegalTransition);
    expect(c.state).toBe(from);
  });

  // The complement of LEGAL: a new state added without updating this test shows up here.
  it('every other pair of distinct states is refused', () => {
    expect(ILLEGAL).toHaveLength(ALL.length * (ALL.length - 1) - LEGAL.length);
    for (const [from, to] of ILLEGAL) {
      expect(() => transition(container(from), to), `${from} → ${to}`).toThrow(IllegalTransition);
    }
  });

  it('the error names the container and both states', () => {
    expect(() => transition(container('dead'), 'ready')).toThrow('container c1: dead → ready');
  });

  it.each(ALL)('%s → %s (same state) is a no-op', (state) => {
    const c = container(state);
    transition(c, state);
    expect(c.state).toBe(state);
  });

  it('walks the whole happy path', () => {
    const c = container('starting');
    for (const to of ['generic', 'loading', 'ready', 'draining', 'ready', 'stopping', 'dead'] as const) {
      transition(c, to);
    }
    expect(c.state).toBe('dead');
  });
});
