/**
 * `scale.max` counts a function's containers on every host together. Each host records in a
 * ledger (see slot-ledger.ts) how many containers of the function it holds and how many it would
 * like; a host starts a container only with a slot the ledger granted. These are the pure rules
 * a host applies to what it last read from the ledger: no I/O, no clock reads.
 */
import { shareCap } from './autoscale.js';

/** One host's line in a function's ledger. */
export interface HostSlots {
  /** The platform instance. */
  host: string;
  /** Containers of the function it holds (starting, serving, draining or being removed). */
  count: number;
  /** Containers it would like: its backlog's need, within scale.max and its own cap. */
  want: number;
}

/**
 * How many containers of a function this host may have: never more than `max` less what the
 * other hosts hold, and, while the hosts together want more than `max`, no more than this host's
 * share of it. Shares go in proportion to what each host wants (every host that wants any gets
 * one first; see `shareCap`), counted over the hosts in id order so that every host computes the
 * same shares from the same ledger. A host over its share drains the excess (autoscale.ts), which
 * is how a host that joins a burst late gets its part.
 * @example capLeft(3, { host: 'b', count: 0, want: 3 }, [{ host: 'a', count: 3, want: 3 }]) // 0 (a holds all 3; its share is 2)
 */
export function capLeft(max: number, me: HostSlots, others: HostSlots[]): number {
  const othersHold = others.reduce((n, h) => n + h.count, 0);
  const free = Math.max(0, max - othersHold);
  const hosts = [me, ...others].filter((h) => h.want > 0).sort((a, b) => a.host.localeCompare(b.host));
  const wanted = hosts.reduce((n, h) => n + h.want, 0);
  if (wanted <= max || me.want === 0) return free;
  const shares = shareCap(
    hosts.map((h) => h.want),
    hosts.map(() => 0),
    max,
  );
  const mine = shares[hosts.findIndex((h) => h.host === me.host)] as number;
  return Math.min(free, mine);
}

/** What one call to the ledger sends: this host's holding and wish for one function. */
export interface SlotRequest {
  /** Containers of the function this host holds now (its line is set to this, plus the grant). */
  held: number;
  /** Containers it would like (what other hosts' shares are computed from). */
  want: number;
  /** Slots it asks for beyond `held` (0: only records and renews its line). */
  ask: number;
  /** The function's scale.max. */
  max: number;
}

/** The ledger's answer: the slots granted (0 to `ask`) and the other hosts' live lines. */
export interface SlotAnswer {
  granted: number;
  others: HostSlots[];
}

/**
 * The cluster's ledger of each function's containers, one line per host, each lapsing unless its
 * host renews it (a host that dies frees its slots). A call is atomic: the grant never lets the
 * lines' sum pass `max`. Implemented on Redis by slot-ledger.ts; unit tests use fakes.
 */
export interface SlotLedger {
  sync(fn: string, req: SlotRequest): Promise<SlotAnswer>;
}
