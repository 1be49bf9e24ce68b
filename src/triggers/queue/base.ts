import type { Logger } from '../../observability/logger.js';
import type { RoutedEvent } from '../../queue/enqueue.js';
import { DEFAULT_BACKOFF, reconnectDelay, type BackoffOptions } from '../bucket/backoff.js';
import type { ConsumerOptions, ConsumerState, QueueConsumer } from './contract.js';
import { BacklogGate, enqueueUntilQueued } from './gate.js';
import { messageDedupKey, sqsRecord, type BrokerMessage } from './record.js';

/**
 * What the three brokers' consumers share: connecting with backoff until stopped, the backlog
 * gate, and queueing a message before it may be acknowledged. A subclass opens the connection
 * in `open()` and calls `lost()` when it drops.
 */
export abstract class BaseConsumer implements QueueConsumer {
  protected readonly log: Logger;
  protected readonly gate: BacklogGate;
  protected readonly backoff: BackoffOptions;
  protected running = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private readonly current: ConsumerState;

  constructor(protected readonly opts: ConsumerOptions) {
    const { fn, trigger } = opts;
    this.log = opts.logger.child({ component: `queue-${trigger.broker}`, function: fn, queue: trigger.name });
    this.gate = new BacklogGate(opts.backlog, trigger.maxBacklog);
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.current = {
      broker: trigger.broker,
      name: trigger.name,
      function: fn,
      connected: false,
      paused: false,
      queued: 0,
      reconnects: 0,
    };
  }

  /** Connects (declaring the queue, stream or group) and starts consuming. */
  protected abstract open(): Promise<void>;
  /** Closes the connection; messages not acknowledged go back to the broker. */
  protected abstract close(): Promise<void>;

  async start(): Promise<void> {
    this.running = true;
    await this.attempt();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.current.connected = false;
    await this.close().catch(() => undefined);
  }

  state(): ConsumerState {
    return { ...this.current };
  }

  protected set paused(p: boolean) {
    if (p !== this.current.paused)
      this.log.info({ maxBacklog: this.opts.trigger.maxBacklog }, p ? 'backlog full: paused' : 'resumed');
    this.current.paused = p;
  }

  /** The connection is up and consuming. */
  protected connected(): void {
    this.failures = 0;
    this.current.connected = true;
    this.log.info('consuming');
  }

  /** For clients that reconnect by themselves: their connection came and went. */
  protected setConnected(on: boolean, error?: string): void {
    if (on !== this.current.connected)
      this.log[on ? 'info' : 'warn']({ err: error }, on ? 'reconnected' : 'broker connection lost');
    if (!on && error) this.current.lastError = error;
    if (on && !this.current.connected) this.current.reconnects++;
    this.current.connected = on;
  }

  /** The connection dropped (or could not open): close what is left and try again later. */
  protected lost(err: Error): void {
    if (!this.current.connected && this.timer) return;
    this.current.connected = false;
    this.current.lastError = err.message;
    if (!this.running) return;
    this.failures++;
    const retryInMs = reconnectDelay(this.failures, this.backoff, Math.random());
    this.log.warn(
      { err: err.message, retryInMs, attempt: this.failures },
      'broker connection lost; reconnecting',
    );
    void this.close().catch(() => undefined);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current.reconnects++;
      void this.attempt();
    }, retryInMs);
  }

  private async attempt(): Promise<void> {
    if (!this.running) return;
    try {
      await this.open();
    } catch (err) {
      this.lost(err as Error);
    }
  }

  /**
   * Queues a message's invocation. True once it is in Redis: the caller acknowledges it then.
   * False when the consumer stopped first: the caller leaves it unacknowledged.
   */
  protected async deliver(m: BrokerMessage): Promise<boolean> {
    const event: RoutedEvent = {
      functionName: this.opts.fn,
      payload: { source: 'queue', record: sqsRecord(m, this.opts.region), enqueuedAt: Date.now() },
      dedupKey: messageDedupKey(m),
    };
    const ok = await enqueueUntilQueued(
      this.opts.sink,
      event,
      () => this.running,
      this.log,
      this.backoff,
      m.keepAlive,
    );
    if (ok) this.current.queued++;
    return ok;
  }
}
