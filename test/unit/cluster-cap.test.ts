import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import {
  capLeft,
  type HostSlots,
  type SlotAnswer,
  type SlotLedger,
  type SlotRequest,
} from '../../src/pool/cluster-cap.js';
import { ClusterSlots } from '../../src/pool/cluster-slots.js';

const h = (host: string, count: number, want: number): HostSlots => ({ host, count, want });

describe('capLeft: what one host may have of a function under the cluster’s scale.max', () => {
  it.each<[string, number, HostSlots, HostSlots[], number]>([
    ['alone', 3, h('b', 0, 3), [], 3],
    ['no contention: max less what the others hold', 8, h('b', 1, 2), [h('a', 5, 5)], 3],
    ['the others hold it all, and want no more than max together', 3, h('b', 0, 0), [h('a', 3, 3)], 0],
    [
      'contention, 2 hosts, max 3: shares 2 : 1 in host order; a holds 3 so b waits',
      3,
      h('b', 0, 3),
      [h('a', 3, 3)],
      0,
    ],
    ['contention, 2 hosts, max 3: a’s share is 2 (it drains one)', 3, h('a', 3, 3), [h('b', 0, 3)], 2],
    ['contention, 2 hosts, max 3: b gets its 1 once a gave it back', 3, h('b', 0, 3), [h('a', 2, 3)], 1],
    ['shares follow what each wants (its free capacity): 1 : 2 of 3', 3, h('b', 0, 3), [h('a', 0, 1)], 2],
    ['every host that wants any gets one first', 4, h('c', 0, 1), [h('a', 0, 4), h('b', 0, 4)], 1],
    ['a host wanting none is left out of the shares', 3, h('b', 1, 0), [h('a', 2, 3)], 1],
    [
      'never more than max less what the others hold, even within a share',
      4,
      h('b', 0, 4),
      [h('a', 4, 4)],
      0,
    ],
  ])('%s', (_, max, me, others, expected) => {
    expect(capLeft(max, me, others)).toBe(expected);
  });

  it('every host computes the same shares from the same ledger, and they add up to max', () => {
    const lines = [h('w1', 0, 5), h('w2', 0, 2), h('w3', 0, 7)];
    const shares = lines.map((me) =>
      capLeft(
        6,
        me,
        lines.filter((o) => o !== me),
      ),
    );
    expect(shares.reduce((a, b) => a + b, 0)).toBe(6);
    expect(Math.min(...shares)).toBeGreaterThan(0);
  });
});

/**
 * The ledger's contract in memory (slot-ledger.ts is the same on Redis, tested against it in
 * test/integration/slot-ledger.test.ts): calls answer only when the test lets them.
 */
class MemoryLedger {
  readonly lines = new Map<string, Map<string, { count: number; want: number }>>();
  readonly calls: Array<{ host: string; fn: string } & SlotRequest> = [];
  readonly held: Array<() => void> = [];
  fail = false;
  auto = true;

  of(host: string): SlotLedger {
    return { sync: (fn, req) => this.sync(host, fn, req) };
  }

  sync(host: string, fn: string, req: SlotRequest): Promise<SlotAnswer> {
    this.calls.push({ host, fn, ...req });
    return new Promise((resolve, reject) => {
      const answer = () => {
        if (this.fail) return reject(new Error('connection refused'));
        const lines = this.lines.get(fn) ?? new Map<string, { count: number; want: number }>();
        this.lines.set(fn, lines);
        const others = [...lines].filter(([id]) => id !== host);
        const othersHold = others.reduce((n, [, l]) => n + l.count, 0);
        const granted = Math.max(0, Math.min(req.ask, req.max - othersHold - req.held));
        lines.set(host, { count: req.held + granted, want: req.want });
        resolve({ granted, others: others.map(([id, l]) => ({ host: id, ...l })) });
      };
      if (this.auto) answer();
      else this.held.push(answer);
    });
  }

  total(fn: string): number {
    return [...(this.lines.get(fn) ?? new Map<string, { count: number }>()).values()].reduce(
      (n, l) => n + l.count,
      0,
    );
  }
}

/** A host's keeper, with containers counted as the test starts and removes them. */
function host(ledger: MemoryLedger, id: string) {
  const containers = new Map<string, number>();
  const wakes: string[] = [];
  const slots = new ClusterSlots({
    ledger: ledger.of(id),
    host: id,
    counted: (fn) => containers.get(fn) ?? 0,
    grant: (fn, n) => {
      containers.set(fn, (containers.get(fn) ?? 0) + n);
      return n;
    },
    wake: (fn) => wakes.push(fn),
    logger: silentLogger,
  });
  const remove = (fn: string) => {
    containers.set(fn, (containers.get(fn) ?? 0) - 1);
    slots.release(fn);
  };
  return { slots, containers, wakes, remove };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ClusterSlots: a host’s asks, grants and releases against the ledger', () => {
  it('two hosts asking for a burst together never start more than max', async () => {
    const ledger = new MemoryLedger();
    const a = host(ledger, 'a');
    const b = host(ledger, 'b');
    a.slots.ask('f', 3, 3);
    b.slots.ask('f', 3, 3);
    await settle();
    expect((a.containers.get('f') ?? 0) + (b.containers.get('f') ?? 0)).toBe(3);
    expect(ledger.total('f')).toBe(3);
  });

  it('a removed container’s slot goes back, and the other host gets it', async () => {
    const ledger = new MemoryLedger();
    const a = host(ledger, 'a');
    const b = host(ledger, 'b');
    a.slots.ask('f', 3, 3);
    await settle();
    b.slots.ask('f', 1, 3);
    await settle();
    expect(b.containers.get('f') ?? 0).toBe(0);
    a.remove('f');
    await settle();
    expect(ledger.total('f')).toBe(2);
    b.slots.ask('f', 1, 3);
    await settle();
    expect(b.containers.get('f')).toBe(1);
    expect(ledger.total('f')).toBe(3);
  });

  it('calls for one function never overlap: an ask during a call waits for it, then the pool decides again', async () => {
    const ledger = new MemoryLedger();
    ledger.auto = false;
    const a = host(ledger, 'a');
    a.slots.ask('f', 2, 5);
    a.slots.ask('f', 2, 5);
    expect(ledger.calls).toHaveLength(1);
    ledger.held.shift()?.();
    await settle();
    expect(a.containers.get('f')).toBe(2);
    expect(a.wakes).toEqual(['f']);
  });

  it('a release during a call is sent after it, with the true count', async () => {
    const ledger = new MemoryLedger();
    const a = host(ledger, 'a');
    a.slots.ask('f', 2, 5);
    await settle();
    ledger.auto = false;
    a.slots.ask('f', 1, 5);
    a.remove('f');
    ledger.held.shift()?.();
    await settle();
    ledger.held.shift()?.();
    await settle();
    expect(ledger.calls.map((c) => [c.held, c.ask])).toEqual([
      [0, 2],
      [2, 1],
      [2, 0],
    ]);
    expect(ledger.total('f')).toBe(2);
    expect(a.containers.get('f')).toBe(2);
  });

  it('the cap it hands decide comes from the last answer: no ledger call on the way', async () => {
    const ledger = new MemoryLedger();
    const a = host(ledger, 'a');
    const b = host(ledger, 'b');
    a.slots.want('f', 3, 3);
    a.slots.ask('f', 3, 3);
    await settle();
    b.slots.want('f', 3, 3);
    b.slots.beat(Date.now());
    await settle();
    const calls = ledger.calls.length;
    expect(b.slots.capFor('f', 3)).toEqual({ max: 0, room: 0 });
    a.slots.beat(Date.now());
    await settle();
    // a learns that b wants some: its share is 2 of 3, and it has 3.
    expect(a.slots.capFor('f', 3)).toEqual({ max: 2, room: 0 });
    expect(ledger.calls.length).toBe(calls + 1);
  });

  it('without a ledger every ask is granted (scale.max counts this host only)', () => {
    const started: number[] = [];
    const slots = new ClusterSlots({
      host: 'a',
      counted: () => 0,
      grant: (_, n) => (started.push(n), n),
      wake: () => undefined,
      logger: silentLogger,
    });
    slots.ask('f', 4, 3);
    expect(started).toEqual([4]);
    expect(slots.capFor('f', 3)).toEqual({ max: 3 });
  });

  it('a ledger that fails starts nothing, and is not asked again before a second has passed', async () => {
    const ledger = new MemoryLedger();
    ledger.fail = true;
    const a = host(ledger, 'a');
    const now = Date.now();
    a.slots.ask('f', 2, 5, now);
    await settle();
    a.slots.ask('f', 2, 5, now + 10);
    a.slots.ask('f', 2, 5, now + 500);
    expect(ledger.calls).toHaveLength(1);
    expect(a.containers.get('f') ?? 0).toBe(0);
    ledger.fail = false;
    a.slots.ask('f', 2, 5, now + 1100);
    await settle();
    expect(a.containers.get('f')).toBe(2);
  });

  it('renews every line at most once a second; an empty line with no want is dropped', async () => {
    const ledger = new MemoryLedger();
    const a = host(ledger, 'a');
    a.slots.ask('f', 1, 5);
    await settle();
    const t = Date.now() + 5000;
    a.slots.beat(t);
    a.slots.beat(t + 500);
    await settle();
    expect(ledger.calls).toHaveLength(2);
    a.remove('f');
    await settle();
    a.slots.beat(t + 1000);
    await settle();
    expect(ledger.calls).toHaveLength(3);
  });
});
