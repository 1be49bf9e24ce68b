import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { BaseConsumer } from './base.js';
import { amqpIdentity, BODY_ENCODING_ATTRIBUTE, headerAttribute, messageBody } from './record.js';

/** Unacknowledged messages one consumer holds at most (and never more than maxBacklog). */
const MAX_PREFETCH = 256;
/** How often the backlog is checked to pause or resume consuming. */
const GATE_INTERVAL_MS = 250;

/**
 * Consumes a durable RabbitMQ queue (declared here when missing). A message is acknowledged once
 * its invocation is queued; on a dropped connection RabbitMQ redelivers what was not, and the job
 * id (from `message-id`, or the body's hash) makes the redelivery a no-op. While the function's
 * backlog is at `maxBacklog` the consumer is cancelled, so messages wait in RabbitMQ.
 */
export class AmqpConsumer extends BaseConsumer {
  private model?: ChannelModel;
  private channel?: Channel;
  private tag?: string;
  private gateTimer?: NodeJS.Timeout;

  protected async open(): Promise<void> {
    const { url, trigger } = this.opts;
    const model = await connect(url, { timeout: 5000 });
    this.model = model;
    model.on('error', () => undefined); // 'close' follows and reconnects
    model.on('close', (err?: Error) => {
      if (this.model === model) this.lost(err ?? new Error('connection closed'));
    });
    const channel = await model.createChannel();
    this.channel = channel;
    channel.on('error', () => undefined);
    channel.on('close', () => {
      // A channel closed by the broker (a queue declared with other arguments): start over.
      if (this.channel === channel && this.running) void model.close().catch(() => undefined);
    });
    await channel.assertQueue(trigger.name, { durable: true });
    await channel.prefetch(Math.min(MAX_PREFETCH, trigger.maxBacklog));
    this.connected();
    await this.checkGate(channel);
    this.gateTimer = setInterval(() => void this.checkGate(channel), GATE_INTERVAL_MS);
  }

  protected async close(): Promise<void> {
    clearInterval(this.gateTimer);
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    this.tag = undefined;
    await model?.close();
  }

  /** Consumes while the backlog has room, cancels the consumer while it has none. */
  private async checkGate(channel: Channel): Promise<void> {
    if (channel !== this.channel) return;
    // A look only: reserving happens per message, in onMessage.
    const room = await this.gate.reserve(1);
    this.gate.release(room);
    try {
      if (room > 0 && !this.tag) {
        this.tag = 'pending';
        const { consumerTag } = await channel.consume(
          this.opts.trigger.name,
          (m) => this.onMessage(channel, m),
          {
            noAck: false,
          },
        );
        this.tag = consumerTag;
        this.paused = false;
      } else if (room === 0 && this.tag && this.tag !== 'pending') {
        const tag = this.tag;
        this.tag = undefined;
        this.paused = true;
        await channel.cancel(tag);
      }
    } catch (err) {
      this.tag = undefined;
      this.log.debug(
        { err: (err as Error).message },
        'could not change consuming; the connection is closing',
      );
    }
  }

  private onMessage(channel: Channel, m: ConsumeMessage | null): void {
    if (!m) return; // the broker cancelled the consumer (queue deleted): the gate consumes again
    void this.whenRoom(channel).then((ok) => (ok ? this.take(channel, m) : undefined));
  }

  /** Holds a delivered message (unacknowledged: prefetch bounds how many) until the backlog has room. */
  private async whenRoom(channel: Channel): Promise<boolean> {
    while (this.running && channel === this.channel) {
      if ((await this.gate.reserve(1)) === 1) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  private take(channel: Channel, m: ConsumeMessage): void {
    const { name } = this.opts.trigger;
    const { body, attributes: encoding } = messageBody(m.content);
    const attributes: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(m.properties.headers ?? {})) {
      const value = headerAttribute(v);
      if (value !== undefined) attributes[k] = value;
    }
    // Only the platform says a body is base64: a publisher's header of that name is dropped.
    delete attributes[BODY_ENCODING_ATTRIBUTE];
    Object.assign(attributes, encoding);
    // Quorum queues count deliveries; classic queues only say whether this is a redelivery.
    const count = Number(m.properties.headers?.['x-delivery-count'] ?? NaN);
    const now = Date.now();
    void this.deliver({
      broker: 'amqp',
      name,
      identity: amqpIdentity(name, m.properties, body),
      body,
      receiveCount: Number.isFinite(count) ? count + 1 : m.fields.redelivered ? 2 : 1,
      sentAt: typeof m.properties.timestamp === 'number' ? m.properties.timestamp * 1000 : now,
      receivedAt: now,
      attributes,
    }).then((queued) => {
      if (!queued || channel !== this.channel) return; // redelivered after the reconnect
      try {
        channel.ack(m);
      } catch {
        // The channel closed meanwhile: RabbitMQ redelivers it, and its job id is taken.
      }
    });
  }
}
