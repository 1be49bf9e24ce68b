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
