import type { JobPayload } from './payload.js';

/** One event routed to one function. */
export interface RoutedEvent {
  functionName: string;
  payload: JobPayload;
  /** Same key, same invocation: a repeat of the event is not run again. */
  dedupKey?: string;
}

/**
 * The one thing trigger sources know about the rest of the platform: hand over events, and
 * learn when they are durably queued (the promise resolves only then).
 */
export interface Enqueue {
  /** Resolves with one invocation id per event, in order. */
  enqueue(events: RoutedEvent[]): Promise<string[]>;
}
