import type { Enqueue, RoutedEvent } from './enqueue.js';
import { QueueUnavailable } from './producer.js';

/**
 * What happened to events handed to the queue: durably queued, refused because Redis could not
 * take them (the sender is told to retry), or refused for another reason.
 */
export type EnqueueOutcome = 'queued' | 'unavailable' | 'rejected';

/**
 * Wraps an `Enqueue` so that every event handed over is counted by its source and outcome.
 * @example const sink = countingEnqueue(producer, (source, outcome, n) => metrics.events.inc({ source, outcome }, n));
 */
export function countingEnqueue(
  inner: Enqueue,
  count: (source: string, outcome: EnqueueOutcome, n: number) => void,
): Enqueue {
  const tally = (events: RoutedEvent[], outcome: EnqueueOutcome) => {
    const bySource = new Map<string, number>();
    for (const e of events) bySource.set(e.payload.source, (bySource.get(e.payload.source) ?? 0) + 1);
    for (const [source, n] of bySource) count(source, outcome, n);
  };
  return {
    async enqueue(events) {
      try {
        const ids = await inner.enqueue(events);
        tally(events, 'queued');
        return ids;
      } catch (err) {
        tally(events, err instanceof QueueUnavailable ? 'unavailable' : 'rejected');
        throw err;
      }
    },
  };
}
