import type http from 'node:http';
import type { FunctionSpec } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue, RoutedEvent } from '../../queue/enqueue.js';
import { routeBucketRecord } from '../route.js';
import { DEFAULT_BACKOFF, reconnectDelay, type BackoffOptions } from './backoff.js';
import { openListenStream, type ListenError, type ListenStream } from './listen-stream.js';
import { listenPlan, type ListenFilter } from './plan.js';
import type { StoreApi } from './store-api.js';
import { bucketDedupKey, normalizeRecord } from './record.js';

export interface BucketListenerOptions {
  client: StoreApi;
  functions: FunctionSpec[];
  /** Where routed events go; the listener knows nothing else of the platform. */
  sink: Enqueue;
  logger: Logger;
  /** Reconnect delays. @defaultValue `{ initialMs: 200, maxMs: 10000 }` */
  backoff?: Partial<BackoffOptions>;
  /**
   * How long after a listen request is written, with no error reply, it counts as listening when
   * the server sends no headers (MinIO builds that do not flush; see listen-stream.ts).
   * @defaultValue 1500
   */
  settleMs?: number;
  /** Seconds between MinIO's empty keepalive records. @defaultValue 1 */
  pingSeconds?: number;
  /** Agent for the listen requests (TLS settings; tests cut its sockets to simulate a drop). */
  agent?: http.Agent;
  /** Called each time a bucket's stream (re)opens: events in the gap need a catch-up. */
  onConnect?: (bucket: string) => void;
}

/** Health of one bucket's stream. */
export interface BucketStreamState {
  connected: boolean;
  /** Reconnect attempts since start. */
  reconnects: number;
  lastError?: string;
}

interface Bucket {
  name: string;
  filter: ListenFilter;
  stream?: ListenStream;
  timer?: NodeJS.Timeout;
  /** Failures since the last successful connect; drives the backoff. */
  failures: number;
  connected: boolean;
  settled: boolean;
  reconnects: number;
  lastError?: string;
  /** Enqueues of this bucket, one after another, so events keep their order. */
  chain: Promise<void>;
}

/**
 * Turns MinIO bucket notifications into queued invocations: one listen stream per bucket that a
 * trigger names, each record routed to the functions whose triggers match and handed to the sink
 * with a dedup key. Streams that drop are reopened with backoff; events that happen while a
 * stream is down are not seen (the listen API does not replay).
 * @example
 * const listener = new BucketListener({ client, functions, sink: producer, logger });
 * await listener.start();
 * // … later
 * await listener.stop();
 */
export class BucketListener {
  private readonly opts: Required<Omit<BucketListenerOptions, 'agent' | 'backoff' | 'onConnect'>> & {
    agent?: http.Agent;
    onConnect?: (bucket: string) => void;
  };
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;
  private readonly buckets = new Map<string, Bucket>();
  private readonly waiters = new Set<{ check(): void; fail(err: Error): void }>();
  private started = false;
  private stopped = false;
  private warnedUnflushed = false;

  constructor(options: BucketListenerOptions) {
    this.opts = { settleMs: 1500, pingSeconds: 1, ...options };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (this.backoff.initialMs <= 0 || this.backoff.maxMs < this.backoff.initialMs)
      throw new RangeError('backoff needs 0 < initialMs <= maxMs');
    this.log = options.logger.child({ component: 'bucket-listener' });
  }

  /**
   * Opens every stream. Resolves once each is listening or its first attempt has failed (a
   * missing bucket, MinIO down); failed ones keep retrying in the background, see `ready()`.
   * An upload that starts after this resolves, on a listening stream, is delivered.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('BucketListener.start() was already called');
    this.started = true;
    for (const [name, filter] of listenPlan(this.opts.functions)) {
      const b: Bucket = {
        name,
        filter,
        failures: 0,
        connected: false,
        settled: false,
        reconnects: 0,
        chain: Promise.resolve(),
      };
      this.buckets.set(name, b);
      this.connect(b);
    }
    await this.until(() => [...this.buckets.values()].every((b) => b.settled));
  }

  /** Resolves when every stream is listening; rejects if the listener is stopped first. */
  ready(): Promise<void> {
    return this.until(() => [...this.buckets.values()].every((b) => b.connected));
  }

  /**
   * Closes every stream and cancels pending reconnects; resolves once the sockets are closed and
   * the enqueues already started have finished.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const closing: Array<Promise<void>> = [];
    for (const b of this.buckets.values()) {
      clearTimeout(b.timer);
      if (b.stream) closing.push(b.stream.close());
      b.stream = undefined;
      b.connected = false;
      closing.push(b.chain);
    }
    for (const w of this.waiters) w.fail(new Error('the bucket listener was stopped'));
    await Promise.all(closing);
  }

  /** Per bucket: whether its stream listens, how often it reconnected, and the last failure. */
  state(): Record<string, BucketStreamState> {
    const out: Record<string, BucketStreamState> = {};
    for (const b of this.buckets.values()) {
      out[b.name] = { connected: b.connected, reconnects: b.reconnects };
      if (b.lastError !== undefined) out[b.name]!.lastError = b.lastError;
    }
    return out;
  }

  private connect(b: Bucket): void {
    const { client, logger, settleMs, pingSeconds, agent } = this.opts;
    b.stream = openListenStream(
      { client, bucket: b.name, filter: b.filter, logger, settleMs, pingSeconds, agent },
      {
        onOpen: (proof) => {
          b.connected = true;
          b.settled = true;
          b.failures = 0;
          this.log.info({ bucket: b.name, filter: b.filter, proof }, 'listening for bucket events');
          if (proof === 'settled') this.warnUnflushed(b.name);
          this.changed();
          this.opts.onConnect?.(b.name);
        },
        onRecord: (raw) => this.accept(b, raw),
        onClose: (err) => {
          b.stream = undefined;
          b.connected = false;
          b.settled = true;
          b.lastError = err.message;
          this.retry(b, err);
          this.changed();
        },
      },
    );
  }

  private retry(b: Bucket, err: Error): void {
    if (this.stopped) return;
    b.failures++;
    const retryInMs = reconnectDelay(b.failures, this.backoff, Math.random());
    const fields = { bucket: b.name, attempt: b.reconnects + 1, retryInMs, err: err.message };
    // From the listen reply's error document.
    if ((err as ListenError).code === 'NoSuchBucket')
      this.log.error(fields, `bucket ${b.name} does not exist: create it or fix triggers`);
    else this.log.warn(fields, `bucket event stream for ${b.name} lost; reconnecting`);
    b.timer = setTimeout(() => {
      b.timer = undefined;
      b.reconnects++;
      this.connect(b);
    }, retryInMs);
  }

  private accept(b: Bucket, raw: unknown): void {
    let record;
    try {
      record = normalizeRecord(raw, 'none'); // the listen API sends keys as uploaded
    } catch (err) {
      this.log.warn({ bucket: b.name, err: (err as Error).message }, 'skipped a notification record');
      return;
    }
    const names = routeBucketRecord(record, this.opts.functions);
    if (names.length === 0) return;
    const dedupKey = bucketDedupKey(record);
    b.chain = b.chain
      .then(() => {
        const enqueuedAt = Date.now();
        const events: RoutedEvent[] = names.map((functionName) => ({
          functionName,
          payload: { source: 'bucket', record, enqueuedAt },
          dedupKey,
        }));
        return this.opts.sink.enqueue(events);
      })
      .then(
        () => undefined,
        (err: Error) =>
          this.log.error(
            { bucket: b.name, key: record.s3.object.key, functions: names, err: err.message },
            'could not enqueue a bucket event; it is lost',
          ),
      );
  }

  private warnUnflushed(bucket: string): void {
    if (this.warnedUnflushed) return;
    this.warnedUnflushed = true;
    this.log.warn(
      { bucket, settleMs: this.opts.settleMs },
      'MinIO sent no listen headers: this build does not flush listen streams (minio/minio#21651), ' +
        'so events arrive in ~2 KB batches and a lone event minutes late; run a MinIO build with the fix',
    );
  }

  private until(done: () => boolean): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the bucket listener was stopped'));
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          if (done()) {
            this.waiters.delete(w);
            resolve();
          }
        },
        fail: (err: Error) => {
          this.waiters.delete(w);
          reject(err);
        },
      };
      this.waiters.add(w);
    });
  }

  private changed(): void {
    for (const w of [...this.waiters]) w.check();
  }
}
