import type { Writable } from 'node:stream';

/** Streams already coalescing their writes, each with a way to hold the rest of the turn's. */
const coalesced = new WeakMap<Writable, () => void>();

/**
 * Sends what a stream is given in one turn of the event loop in at most two system calls: the
 * turn's first write goes out at once (a lone message waits for nothing), and the writes after it
 * in the same turn are held and sent together (one `writev`) in the check phase that follows the
 * turn's I/O callbacks. Order and content are unchanged. On a local socket each write wakes its
 * reader and does the reader's share of the work in the writer's call, so under load, with many
 * messages a turn to one peer, many small writes cost far more CPU than one.
 * @example coalesceWrites(socket);
 */
export function coalesceWrites(stream: Writable): void {
  if (coalesced.has(stream)) return;
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  /** A write went out this turn; `held`: the ones after it are corked until the turn ends. */
  let busy = false;
  let held = false;
  const endTurn = () => {
    busy = false;
    if (held) {
      held = false;
      stream.uncork();
    }
  };
  const hold = () => {
    if (!busy) {
      busy = true;
      setImmediate(endTurn);
    }
    if (!held && !stream.destroyed) {
      held = true;
      stream.cork();
    }
  };
  coalesced.set(stream, hold);
  stream.write = ((...args: unknown[]) => {
    if (!busy) {
      busy = true;
      setImmediate(endTurn);
    } else hold();
    return write(...args);
  }) as Writable['write'];
}

/**
 * Holds every write left in this turn of the event loop, the next one included, to go out together
 * at the turn's end: for a message that is to leave with the ones that follow it in the same turn
 * (a record and the completion behind it). Nothing for a stream that does not coalesce.
 * @example holdTurn(socket); socket.write(a); socket.write(b); // one write, at the turn's end
 */
export function holdTurn(stream: Writable): void {
  coalesced.get(stream)?.();
}
