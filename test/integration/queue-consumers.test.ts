/**
 * Each broker's consumer on its own, against the real broker, with a sink standing in for the
 * platform's queue: it stops taking messages at `maxBacklog` and takes the rest once the backlog
 * drains; while the sink cannot queue (Redis down) nothing is acknowledged or lost.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import type { RoutedEvent } from '../../src/queue/enqueue.js';
import { QueueUnavailable } from '../../src/queue/producer.js';
import { AmqpConsumer } from '../../src/triggers/queue/amqp.js';
import type { ConsumerOptions, QueueConsumer } from '../../src/triggers/queue/contract.js';
import { NatsConsumer } from '../../src/triggers/queue/nats.js';
import type { Broker } from '../../src/triggers/queue/record.js';
import { RedisStreamConsumer } from '../../src/triggers/queue/redis-streams.js';
import { defaultUrl, publishBytes, publisher, requireBroker } from '../helpers/brokers.js';
import { dropBrokerQueue, inputKeys, shortName, sleep, until } from '../faults/harness.js';

const CONSUMERS = { amqp: AmqpConsumer, nats: NatsConsumer, redis: RedisStreamConsumer };

function consumer(
  broker: Broker,
  name: string,
  maxBacklog: number,
  o: Partial<ConsumerOptions>,
): QueueConsumer {
  return new CONSUMERS[broker]({
    fn: shortName('c'),
    trigger: { type: 'queue', broker, name, maxBacklog },
    url: defaultUrl(broker),
    sink: { enqueue: async () => [] },
    backlog: async () => 0,
    region: 'us-east-1',
    consumer: shortName('proc'),
    logger: createLogger('silent'),
    ...o,
  });
}

async function publishAll(broker: Broker, name: string, keys: string[]): Promise<void> {
  const pub = await publisher(broker, defaultUrl(broker), name);
  for (const k of keys) await pub.publish(k, k);
  await pub.close();
}

describe.each<Broker>(['amqp', 'nats', 'redis'])('the %s consumer', (broker) => {
  it('takes no more than maxBacklog while nothing drains, and the rest once it does', async () => {
    await requireBroker(broker);
    const name = shortName(`faas-test-bp-${broker}`);
    const got: string[] = [];
    let drained = 0;
    const c = consumer(broker, name, 10, {
      sink: {
        enqueue: async (events: RoutedEvent[]) => {
          for (const e of events) got.push((e.payload as { record: { body: string } }).record.body);
          return events.map(() => 'id');
        },
      },
      backlog: async () => got.length - drained,
    });
    try {
      await publishAll(broker, name, inputKeys('bp-', 40));
      await c.start();
      await until('the backlog to fill', () => got.length >= 10, 15_000);
      await sleep(1500);
      expect(got.length).toBe(10);
      expect(c.state().paused).toBe(true);
      drained = 40; // the worker took them all
      await until('the rest', () => got.length >= 40, 15_000);
      expect(new Set(got).size).toBe(40);
      expect(c.state().paused).toBe(false);
    } finally {
      await c.stop();
      await dropBrokerQueue(broker, defaultUrl(broker), name);
    }
  }, 60_000);

  it('acknowledges nothing while the queue cannot take messages, and loses nothing', async () => {
    await requireBroker(broker);
    const name = shortName(`faas-test-down-${broker}`);
    const got = new Set<string>();
    let down = true;
    let refused = 0;
    const c = consumer(broker, name, 1000, {
      sink: {
        enqueue: async (events: RoutedEvent[]) => {
          if (down) {
            refused++;
            throw new QueueUnavailable('Redis is not connected (reconnecting)');
          }
          for (const e of events) got.add((e.payload as { record: { body: string } }).record.body);
          return events.map(() => 'id');
        },
      },
      backoff: { initialMs: 100, maxMs: 400 },
    });
    try {
      await c.start();
      await publishAll(broker, name, inputKeys('down-', 20));
      await until('refusals', () => refused >= 20, 15_000);
      await sleep(1000);
      expect(got.size).toBe(0);
      expect(c.state().queued).toBe(0);
      down = false;
      await until('every message', () => got.size >= 20, 15_000);
      expect(c.state().queued).toBe(20);
    } finally {
      await c.stop();
      await dropBrokerQueue(broker, defaultUrl(broker), name);
    }
  }, 60_000);
});

describe.each<'amqp' | 'nats'>(['amqp', 'nats'])('the %s consumer with bytes and headers', (broker) => {
  it('keeps a body that is not UTF-8 as base64, flagged, and passes every header', async () => {
    await requireBroker(broker);
    const name = shortName(`faas-test-bin-${broker}`);
    const records: Array<{ body: string; messageAttributes: Record<string, { stringValue: string }> }> = [];
    const c = consumer(broker, name, 10, {
      sink: {
        enqueue: async (events: RoutedEvent[]) => {
          for (const e of events) records.push((e.payload as { record: (typeof records)[number] }).record);
          return events.map(() => 'id');
        },
      },
    });
    const bytes = Uint8Array.from([0xff, 0xfe, 0x00, 0x80]);
    try {
      await c.start();
      // AMQP headers are typed (booleans, tables); NATS ones are text.
      const headers =
        broker === 'amqp' ? { kind: 'x', flag: true, obj: { a: 1 } } : { kind: 'x', flag: 'true' };
      await publishBytes(broker, defaultUrl(broker), name, bytes, headers);
      // A publisher's own header of the marker's name does not make text base64.
      await publishBytes(broker, defaultUrl(broker), name, new TextEncoder().encode('\ufeffhéllo'), {
        'faas-body-encoding': 'base64',
      });
      await until('both messages', () => records.length >= 2, 15_000);
      const [binary, text] = records;
      expect(Buffer.from(binary!.body, 'base64')).toEqual(Buffer.from(bytes));
      const attrs = Object.fromEntries(
        Object.entries(binary!.messageAttributes).map(([k, v]) => [k, v.stringValue]),
      );
      expect(attrs).toMatchObject({
        'faas-body-encoding': 'base64',
        kind: 'x',
        flag: 'true',
        ...(broker === 'amqp' && { obj: '{"a":1}' }),
      });
      expect(text!.body).toBe('\ufeffhéllo');
      expect(text!.messageAttributes['faas-body-encoding']).toBeUndefined();
    } finally {
      await c.stop();
      await dropBrokerQueue(broker, defaultUrl(broker), name);
    }
  }, 60_000);
});
