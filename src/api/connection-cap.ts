/**
 * Counts open connections per source address and admits a new one only below the cap. Holds an
 * entry only while its source has a connection open, so many sources cost no lasting memory.
 * @example
 * const cap = new ConnectionCap(256);
 * if (!cap.admit(addr).admitted) socket.destroy(); else socket.once('close', () => cap.release(addr));
 */
export class ConnectionCap {
  private readonly open = new Map<string, { count: number; refusedSinceAdmit: number }>();

  constructor(readonly perSource: number) {}

  /**
   * Admits a connection from `source`, or refuses it when the source is at the cap. `first` is
   * true for the first refusal since the source last had one admitted: worth one log line, where
   * every refusal of a flood would make the log the next thing to fill up.
   */
  admit(source: string): { admitted: boolean; first: boolean } {
    const entry = this.open.get(source) ?? { count: 0, refusedSinceAdmit: 0 };
    if (entry.count >= this.perSource) {
      entry.refusedSinceAdmit++;
      return { admitted: false, first: entry.refusedSinceAdmit === 1 };
    }
    entry.count++;
    entry.refusedSinceAdmit = 0;
    this.open.set(source, entry);
    return { admitted: true, first: false };
  }

  /** Forgets one admitted connection of `source` (call once, when it closes). */
  release(source: string): void {
    const entry = this.open.get(source);
    if (!entry) return;
    if (--entry.count <= 0) this.open.delete(source);
  }

  /** Open connections of `source`. */
  count(source: string): number {
    return this.open.get(source)?.count ?? 0;
  }

  /** Sources with a connection open. */
  get sources(): number {
    return this.open.size;
  }
}
