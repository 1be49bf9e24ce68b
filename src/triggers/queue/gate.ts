import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import { backoffDelay } from '../../util/backoff.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../bucket/backoff.js';

/** How long a backlog reading is trusted. */
const BACKLOG_TTL_MS = 250;

/**
 * Room left under `maxBacklog` for a function. The backlog is read from Redis at most every
 * 250 ms; messages taken since a reading count against the room until the next one includes
 * them. While Redis does not answer there is no room.
 */
export class BacklogGate {
  private waiting = 0;
  private readAt = 0;
  private reading?: Promise<void>;
  /** Messages reserved and not yet in a reading. */
  private taken = 0;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxBacklog: number,
  ) {}

  /**
   * Reserves room for up to `max` messages and returns how many (0: pause). The check and the
   * reservation happen together, so concurrent callers never share the same room.
   */
  async reserve(max: number, now = Date.now()): Promise<number> {
    if (now - this.readAt > BACKLOG_TTL_MS) await this.refresh();
    const n = Math.min(max, roomUnder(this.maxBacklog, this.waiting + this.taken));
    this.taken += n;
    return n;
  }

  /** Gives back room reserved for messages that did not come. */
  release(n: number): void {
    this.taken = Math.max(0, this.taken - n);
  }

  private refresh(): Promise<void> {
    // Reservations made before the read started are in it (their jobs are queued by then, or
    // counted twice for a moment: the safe side).
    const before = this.taken;
    this.reading ??= this.read()
      .then(
        (n) => {
          this.waiting = n;
          this.taken = Math.max(0, this.taken - before);
        },
        () => {
          this.waiting = Infinity;
        },
      )
      .finally(() => {
        this.readAt = Date.now();
        this.reading = undefined;
      });
    return this.reading;
  }
}

/** Messages that may be taken while `waiting` wait and at most `maxBacklog` may. Pure. */
export function roomUnder(maxBacklog: number, waiting: number): number {
  return Math.max(0, maxBacklog - waiting);
}

/**
 * Queues one message's event, retrying with backoff while the queue cannot take it (Redis down)
 * and the consumer still runs. Resolves true once queued (the message may be acknowledged),
 * false when the consumer stopped first (it must not be: the broker delivers it again).
 */
export async function enqueueUntilQueued(
  sink: Enqueue,
  event: RoutedEvent,
  running: () => boolean,
  log: Logger,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
  onRetry?: () => void,
): Promise<boolean> {
  for (let attempt = 1; running(); attempt++) {
    try {
      await sink.enqueue([event]);
      return true;
    } catch (err) {
      const delay = backoffDelay(attempt, backoff.initialMs, backoff.maxMs, Math.random());
      if (attempt === 1 || attempt % 10 === 0)
        log.warn(
          { function: event.functionName, attempt, retryInMs: delay, err: (err as Error).message },
          'could not queue a message; it stays unacknowledged and is retried',
        );
      onRetry?.();
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return false;
}
