import type { Logger } from '../observability/logger.js';
import { capLeft, type HostSlots, type SlotLedger } from './cluster-cap.js';

/** How often this host renews its lines (well within the ledger's 10 s lapse). */
export const SLOT_BEAT_MS = 1000;

/** After a failed call to the ledger, no new ask before this long (the next beat retries). */
const RETRY_MS = 1000;

/** This host's line of one function, as the pool keeps it. */
interface Line {
  want: number;
  /** scale.max as last given (a removed function's lines still renew until they are empty). */
  max: number;
  /** The other hosts' lines, from the ledger's last answer. */
  others: HostSlots[];
  syncing: boolean;
  /** The line changed (a container went) while a call was in flight: send it again after. */
  dirty: boolean;
  /** An ask came while a call was in flight: the pool decides again after. */
  wake: boolean;
  retryAt: number;
}

export interface ClusterSlotsOptions {
  /** Without a ledger, scale.max counts this host's containers only and every ask is granted. */
  ledger?: SlotLedger;
  /** This host's id in the ledger (the instance). */
  host: string;
  /** Containers of a function this host holds now, whatever their state, until removed. */
  counted: (fn: string) => number;
  /** Slots were granted: start this many containers; returns how many it started. */
  grant: (fn: string, n: number) => number;
  /** An ask was left waiting on a call in flight: decide again. */
  wake: (fn: string) => void;
  logger: Logger;
}

/**
 * The pool's side of the cluster's container ledger: what each function may have on this host
 * (from the last answer, so a lease never waits on Redis), asks for slots before any container
 * starts, gives them back as containers are removed, and renews this host's lines every second.
 * Calls for one function never overlap, so each sends the host's true count. Owned by the pool,
 * which is the only caller.
 */
export class ClusterSlots {
  private readonly lines = new Map<string, Line>();
  private failing = false;
  private lastBeat = 0;

  constructor(private readonly o: ClusterSlotsOptions) {}

  /**
   * What `decide` is given for a function: the most containers it may have here, and how many
   * more it may start (undefined when there is no ledger, or no answer from it yet).
   */
  capFor(fn: string, max: number): { max: number; room?: number } {
    const l = this.lines.get(fn);
    if (!this.o.ledger || !l) return { max };
    const counted = this.o.counted(fn);
    const cap = capLeft(max, { host: this.o.host, count: counted, want: l.want }, l.others);
    return { max: cap, room: Math.max(0, cap - counted) };
  }

  /** Records what a function would like here (sent with the next call). */
  want(fn: string, want: number, max: number): void {
    const l = this.lines.get(fn);
    if (l) {
      l.want = want;
      l.max = max;
    } else if (want > 0 && this.o.ledger) {
      this.lines.set(fn, this.line(want, max));
    }
  }

  /** Asks for `n` slots; the pool's `grant` starts what the ledger gives. */
  ask(fn: string, n: number, max: number, now = Date.now()): void {
    if (!this.o.ledger) {
      this.o.grant(fn, n);
      return;
    }
    let l = this.lines.get(fn);
    if (!l) this.lines.set(fn, (l = this.line(0, max)));
    l.max = max;
    if (l.syncing) {
      l.wake = true;
      return;
    }
    if (now < l.retryAt) return;
    this.send(fn, l, n);
  }

  /** A container of `fn` was removed: give its slot back. */
  release(fn: string): void {
    const l = this.lines.get(fn);
    if (!l) return;
    if (l.syncing) l.dirty = true;
    else this.send(fn, l, 0);
  }

  /** Renews every line of this host, at most once a second. */
  beat(now: number): void {
    if (!this.o.ledger || now - this.lastBeat < SLOT_BEAT_MS) return;
    this.lastBeat = now;
    for (const [fn, l] of this.lines) {
      if (l.syncing) l.dirty = true;
      else this.send(fn, l, 0);
    }
  }

  private line(want: number, max: number): Line {
    return { want, max, others: [], syncing: false, dirty: false, wake: false, retryAt: 0 };
  }

  private send(fn: string, l: Line, ask: number): void {
    const ledger = this.o.ledger as SlotLedger;
    l.syncing = true;
    l.dirty = false;
    let answered = false;
    ledger
      .sync(fn, { held: this.o.counted(fn), want: l.want, ask, max: l.max })
      .then((answer) => {
        answered = true;
        l.others = answer.others;
        this.failing = false;
        if (answer.granted > 0 && this.o.grant(fn, answer.granted) < answer.granted) l.dirty = true;
      })
      .catch((err: Error) => {
        l.retryAt = Date.now() + RETRY_MS;
        if (this.failing) return;
        this.failing = true;
        this.o.logger.warn(
          { component: 'pool', fn, err: err.message },
          'could not reach the cluster ledger of containers: starting none until it answers',
        );
      })
      .finally(() => {
        l.syncing = false;
        if (l.dirty) this.send(fn, l, 0);
        else if (answered && l.want === 0 && this.o.counted(fn) === 0 && this.lines.get(fn) === l) {
          // The ledger dropped this host's line: nothing to renew.
          this.lines.delete(fn);
        }
        if (l.wake) {
          l.wake = false;
          this.o.wake(fn);
        }
      });
  }
}
