/**
 * Where each invocation id stands on one container, so that a message naming an id can be
 * judged: `in-flight` (serve it), `finished` (its runtime sent the result), `settled` (the host
 * gave up on it: timeout, crash; the runtime may not know yet), `unknown` (never sent here).
 */
export type Standing = 'in-flight' | 'finished' | 'settled' | 'unknown';

/** Past ids remembered per container; a container serves far fewer before it is recycled. */
const PAST_LIMIT = 1000;

/** The invocations of one container: those in flight, and the recent past ones. */
export class Ledger<T> {
  private readonly live = new Map<string, T>();
  private readonly past = new Map<string, 'finished' | 'settled'>();

  get size(): number {
    return this.live.size;
  }

  standing(id: string): Standing {
    if (this.live.has(id)) return 'in-flight';
    return this.past.get(id) ?? 'unknown';
  }

  get(id: string): T | undefined {
    return this.live.get(id);
  }

  start(id: string, entry: T): void {
    this.live.set(id, entry);
  }

  /** Moves an in-flight id to the past; returns its entry, if it was in flight. */
  end(id: string, how: 'finished' | 'settled'): T | undefined {
    const entry = this.live.get(id);
    if (entry === undefined) return undefined;
    this.live.delete(id);
    this.past.set(id, how);
    if (this.past.size > PAST_LIMIT) this.past.delete(this.past.keys().next().value as string);
    return entry;
  }

  /** Ends every in-flight id as settled; returns them with their entries. */
  settleAll(): Array<[string, T]> {
    const all = [...this.live];
    for (const [id] of all) this.end(id, 'settled');
    return all;
  }
}
