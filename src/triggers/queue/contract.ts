import type { QueueTrigger } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue } from '../../queue/enqueue.js';
import type { BackoffOptions } from '../bucket/backoff.js';

/** What every broker's consumer is given; it knows nothing else of the platform. */
export interface ConsumerOptions {
  /** The function the messages run. */
  fn: string;
  trigger: QueueTrigger;
  /** The broker's URL, already resolved from the trigger's variable or the default. */
  url: string;
  /** Where messages go; a message is acknowledged only once this resolves for it. */
  sink: Enqueue;
  /** Invocations of the function waiting now (read often: cache it). */
  backlog: () => Promise<number>;
  /** Region written into records. */
  region: string;
  /** This process's name among the consumers sharing the queue (unique per process). */
  consumer: string;
  logger: Logger;
  /** Reconnect and re-enqueue delays. @defaultValue `{ initialMs: 200, maxMs: 10000 }` */
  backoff?: Partial<BackoffOptions>;
}

/** Health of one consumer, for `/status` (and, without names, `/healthz`). */
export interface ConsumerState {
  broker: QueueTrigger['broker'];
  name: string;
  function: string;
  connected: boolean;
  /** Not taking messages because the function's backlog reached `maxBacklog`. */
  paused: boolean;
  /** Messages queued (and acknowledged) by this process. */
  queued: number;
  reconnects: number;
  lastError?: string;
}

/**
 * One queue trigger's consumer in one process. Several processes consume the same queue and
 * share its messages; each message is queued as one invocation with a job id derived from its
 * identity, and acknowledged only after that.
 */
export interface QueueConsumer {
  /** Connects, declaring what it consumes from; keeps retrying in the background when it cannot. */
  start(): Promise<void>;
  /** Stops taking messages; unacknowledged ones go back to the broker. */
  stop(): Promise<void>;
  state(): ConsumerState;
}
