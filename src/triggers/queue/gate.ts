import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import { backoffDelay } from '../../util/backoff.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../bucket/backoff.js';

/** How long a backlog reading is trusted. */
const BACKLOG_TTL_MS = 250;

/**
 * Room left under `maxBacklog` for a function, from a backlog reading cached for a moment so a
 * busy consumer does not ask Redis for every message. While Redis does not answer there is no room.
 */
export class BacklogGate {
  private waiting = 0;
  private readAt = 0;
  private reading?: Promise<void>;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxBacklog: number,
  ) {}

  /** Messages that may be taken now (0 to pause). */
  async room(now = Date.now()): Promise<number> {
    if (now - this.readAt > BACKLOG_TTL_MS) {
      this.reading ??= this.read().then(
        (n) => {
          this.waiting = n;
          this.readAt = Date.now();
        },
        () => {
          this.waiting = Infinity;
          this.readAt = Date.now();
        },
      );
      await this.reading.finally(() => (this.reading = undefined));
    }
    return roomUnder(this.maxBacklog, this.waiting);
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
