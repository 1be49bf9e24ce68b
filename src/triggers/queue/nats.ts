import { createHash } from 'node:crypto';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  nanos,
  StorageType,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { BaseConsumer } from './base.js';
import { BODY_ENCODING_ATTRIBUTE, messageBody, natsIdentity } from './record.js';

/** Messages fetched per pull at most. */
const MAX_BATCH = 100;
/** How long an unacknowledged message stays with this consumer before JetStream redelivers it. */
const ACK_WAIT_MS = 10_000;
/** How long a pull waits for messages. */
const PULL_EXPIRES_MS = 1000;

/**
 * The JetStream stream the platform creates for a subject no stream covers:
 * `FAAS_` and the subject with every character a stream name may not have replaced.
 * @example streamNameFor('orders.eu.*') // 'FAAS_orders_eu_all'
 */
export function streamNameFor(subject: string): string {
  return `FAAS_${subject
    .replaceAll('>', 'rest')
    .replaceAll('*', 'all')
    .replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** The durable consumer of one function on one subject (two triggers of one function differ). */
export function durableNameFor(fn: string, subject: string): string {
  return `faas-${fn}-${createHash('sha256').update(subject).digest('hex').slice(0, 8)}`;
}

/**
 * Consumes a JetStream subject through a durable pull consumer shared by every platform process
 * (each pulls batches; JetStream hands a message to one). A message is acknowledged once its
 * invocation is queued; unacknowledged ones come back after the ack wait. Pulls only while the
 * function's backlog is under `maxBacklog`, at most the room left.
 */
export class NatsConsumer extends BaseConsumer {
  private nc?: NatsConnection;

  protected async open(): Promise<void> {
    const nc = await connect({
      servers: this.opts.url,
      name: this.opts.consumer,
      // nats.js reconnects by itself; a connection that gives up is started over with backoff.
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
    });
    this.nc = nc;
    void nc.closed().then((err) => {
      if (this.nc === nc) this.lost(err ?? new Error('connection closed'));
    });
    const { stream, durable } = await this.declare(await nc.jetstreamManager());
    this.connected();
    void this.watch(nc);
    void this.pull(nc, stream, durable);
  }

  protected async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    await nc?.close();
  }

  /** The stream covering the subject (created when none does) and our durable consumer on it. */
  private async declare(jsm: JetStreamManager): Promise<{ stream: string; durable: string }> {
    const { fn, trigger } = this.opts;
    const subject = trigger.name;
    let stream: string;
    try {
      stream = await jsm.streams.find(subject);
    } catch {
      stream = streamNameFor(subject);
      await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
      this.log.info({ stream }, 'created a JetStream stream for the subject');
    }
    const durable = durableNameFor(fn, subject);
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subject,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: trigger.maxBacklog,
      });
    }
    return { stream, durable };
  }

  /** Health follows the client's own reconnects. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.nc !== nc) return;
      if (s.type === 'disconnect') this.setConnected(false, `disconnected from ${String(s.data)}`);
      if (s.type === 'reconnect') this.setConnected(true);
    }
  }

  private async pull(nc: NatsConnection, stream: string, durable: string): Promise<void> {
    const js = nc.jetstream();
    while (this.running && this.nc === nc) {
      if (!this.state().connected) {
        await sleep(250);
        continue;
      }
      const room = await this.gate.reserve(MAX_BATCH);
      this.paused = room === 0;
      if (room === 0) {
        await sleep(250);
        continue;
      }
      let got = 0;
      try {
        const consumer = await js.consumers.get(stream, durable);
        const batch = await consumer.fetch({ max_messages: room, expires: PULL_EXPIRES_MS });
        const work: Array<Promise<void>> = [];
        for await (const m of batch) {
          got++;
          work.push(this.take(m));
        }
        this.gate.release(room - got);
        got = room;
        await Promise.all(work);
      } catch (err) {
        this.gate.release(room - got);
        this.log.debug({ err: (err as Error).message }, 'pull failed; trying again');
        await sleep(500);
      }
    }
  }

  private async take(m: JsMsg): Promise<void> {
    const now = Date.now();
    const { body, attributes: encoding } = messageBody(m.data);
    const attributes: Record<string, string> = {};
    for (const k of m.headers?.keys() ?? []) attributes[k] = m.headers!.get(k);
    // Only the platform says a body is base64: a publisher's header of that name is dropped.
    delete attributes[BODY_ENCODING_ATTRIBUTE];
    Object.assign(attributes, encoding);
    const queued = await this.deliver({
      broker: 'nats',
      name: this.opts.trigger.name,
      identity: natsIdentity(m.info.stream, m.seq),
      body,
      receiveCount: m.info.redeliveryCount,
      sentAt: Math.round(m.info.timestampNanos / 1e6),
      receivedAt: now,
      attributes,
      extra: { SequenceNumber: String(m.seq), MessageGroupId: m.subject },
      // While Redis cannot take it, keep the message ours instead of letting the ack wait lapse.
      keepAlive: () => m.working(),
    });
    if (!queued) return; // left unacknowledged: JetStream redelivers it after the ack wait
    // Not acknowledged when the connection is gone: redelivered later, and its job id is taken.
    await m.ackAck().catch(() => false);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
