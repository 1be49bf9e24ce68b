/**
 * The pool's decisions as pure functions: no I/O, no clock reads (time is passed in).
 */

export interface SlotView {
  name: string;
  inFlight: number;
  lastUsed: number;
}

/**
 * The container to give the next invocation: the least busy one with a free slot, ties broken
 * by the most recently used (so idle containers age out and the pool can shrink).
 */
export function pickContainer<T extends SlotView>(ready: T[], concurrency: number): T | undefined {
  let best: T | undefined;
  for (const c of ready) {
    if (c.inFlight >= concurrency) continue;
    if (!best || c.inFlight < best.inFlight || (c.inFlight === best.inFlight && c.lastUsed > best.lastUsed))
      best = c;
  }
  return best;
}

export interface GrowthInput {
  /** Invocations waiting for a slot. */
  waiting: number;
  concurrency: number;
  /** Containers of this function on their way up. */
  starting: number;
  /** Containers of this function that exist (starting, ready, draining). */
  existing: number;
  /** The function's scale.max. */
  max: number;
  /** Containers on this host, all functions, and the host's cap. */
  hostTotal: number;
  hostCap: number;
}

/** How many containers to start now so the waiting invocations get slots, within both caps. */
export function containersToStart(i: GrowthInput): number {
  const wanted = Math.ceil(i.waiting / i.concurrency) - i.starting;
  const room = Math.min(i.max - i.existing, i.hostCap - i.hostTotal);
  return Math.max(0, Math.min(wanted, room));
}
