import { describe, expect, it } from 'vitest';
import { handlerEvent } from '../../src/queue/handler-event.js';
import { queueHealth, brokerUrl } from '../../src/triggers/queue/start.js';
import { roomUnder } from '../../src/triggers/queue/gate.js';
import { durableNameFor, streamNameFor } from '../../src/triggers/queue/nats.js';
import { staleConsumers } from '../../src/triggers/queue/redis-streams.js';
import {
  amqpIdentity,
  entryTime,
  md5,
  messageDedupKey,
  natsIdentity,
  redisIdentity,
  sqsRecord,
  streamFields,
  type BrokerMessage,
} from '../../src/triggers/queue/record.js';

describe('message identities stay the same across redeliveries', () => {
  it.each([
    ['AMQP message-id', amqpIdentity('q', { messageId: 'o-1' }, 'x'), 'id:o-1'],
    ['AMQP, same body, another message-id', amqpIdentity('q', { messageId: 'o-2' }, 'x'), 'id:o-2'],
    ['NATS stream sequence', natsIdentity('ORDERS', 42), 'seq:ORDERS:42'],
    ['Redis entry id', redisIdentity('1700000000000-3'), 'entry:1700000000000-3'],
  ])('%s', (_, got, want) => expect(got).toBe(want));

  it('hashes queue and body for an AMQP message without message-id', () => {
    const a = amqpIdentity('q', {}, 'hello');
    expect(a).toMatch(/^body:[0-9a-f]{64}$/);
    expect(amqpIdentity('q', { messageId: '' }, 'hello')).toBe(a);
    expect(amqpIdentity('other', {}, 'hello')).not.toBe(a);
    expect(amqpIdentity('q', {}, 'hello!')).not.toBe(a);
  });

  it('keys dedup by broker, name and identity', () => {
    const k = (broker: 'amqp' | 'nats', name: string, identity: string) =>
      messageDedupKey({ broker, name, identity });
    expect(k('amqp', 'a', 'id:1')).toBe('queue:amqp:a:id:1');
    expect(k('amqp', 'a', 'id:1')).not.toBe(k('nats', 'a', 'id:1'));
    expect(k('amqp', 'a', 'id:1')).not.toBe(k('amqp', 'b', 'id:1'));
  });
});

describe('Redis stream entries', () => {
  it.each([
    [['body', 'hi', 'kind', 'x'], { body: 'hi', attributes: { kind: 'x' } }],
    [['kind', 'x'], { body: '', attributes: { kind: 'x' } }],
    [['body', 'a', 'body', 'b'], { body: 'b', attributes: {} }],
    [['k', '1', 'k', '2', 'odd'], { body: '', attributes: { k: '1' } }],
    [[], { body: '', attributes: {} }],
  ])('%j', (fields, want) => expect(streamFields(fields)).toEqual(want));

  it.each([
    ['1700000000000-0', 1700000000000],
    ['0-1', undefined],
    ['x', undefined],
  ])('entry %s was added at %s', (id, ms) => expect(entryTime(id)).toBe(ms));
});

describe('the SQS-like record', () => {
  const m: BrokerMessage = {
    broker: 'redis',
    name: 'orders',
    identity: 'entry:1700000000000-0',
    body: '{"n":1}',
    receiveCount: 2,
    sentAt: 1700000000000,
    receivedAt: 1700000000500,
    attributes: { kind: 'new', n: 3 },
  };
  const r = sqsRecord(m, 'us-east-1');

  it('has every field a Lambda SQS handler reads', () => {
    expect(Object.keys(r).sort()).toEqual(
      [
        'messageId',
        'receiptHandle',
        'body',
        'attributes',
        'messageAttributes',
        'md5OfBody',
        'eventSource',
        'eventSourceARN',
        'awsRegion',
      ].sort(),
    );
    expect(r).toMatchObject({
      body: '{"n":1}',
      receiptHandle: 'entry:1700000000000-0',
      md5OfBody: md5('{"n":1}'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:faas:redis:us-east-1:local:orders',
      awsRegion: 'us-east-1',
      attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1700000000000',
        ApproximateFirstReceiveTimestamp: '1700000000500',
      },
      messageAttributes: {
        kind: { stringValue: 'new', dataType: 'String' },
        n: { stringValue: '3', dataType: 'Number' },
      },
    });
    expect(r.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('keeps its messageId when the message is delivered again', () => {
    expect(sqsRecord({ ...m, receiveCount: 5, receivedAt: 1 }, 'us-east-1').messageId).toBe(r.messageId);
    expect(sqsRecord({ ...m, identity: 'entry:1-0' }, 'us-east-1').messageId).not.toBe(r.messageId);
  });

  it('reaches the handler as one record in Records', () => {
    expect(handlerEvent({ source: 'queue', record: r, enqueuedAt: 1 }, 'us-east-1')).toEqual({
      Records: [r],
    });
  });

  it('md5OfBody is the MD5 of the body text', () => {
    expect(md5('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});

describe('consumer decisions', () => {
  it.each([
    [1000, 0, 1000],
    [1000, 999, 1],
    [1000, 1000, 0],
    [10, 50, 0],
    [10, Infinity, 0],
  ])('maxBacklog %i with %i waiting leaves room for %i', (max, waiting, room) =>
    expect(roomUnder(max, waiting)).toBe(room),
  );

  it.each([
    ['orders', 'FAAS_orders'],
    ['orders.eu', 'FAAS_orders_eu'],
    ['orders.*', 'FAAS_orders_all'],
    ['orders.>', 'FAAS_orders_rest'],
  ])('a stream for subject %s is named %s', (subject, name) => expect(streamNameFor(subject)).toBe(name));

  it('names durable consumers per function and subject', () => {
    expect(durableNameFor('f', 'a')).toMatch(/^faas-f-[0-9a-f]{8}$/);
    expect(durableNameFor('f', 'a')).not.toBe(durableNameFor('f', 'b'));
  });

  const defaults = { amqp: 'amqp://d', nats: 'nats://d', redis: 'redis://d' };
  const t = { type: 'queue' as const, name: 'q', maxBacklog: 1 };
  it.each([
    [{ ...t, broker: 'amqp' as const }, {}, 'amqp://d'],
    [{ ...t, broker: 'redis' as const }, {}, 'redis://d'],
    [{ ...t, broker: 'nats' as const, url: 'N' }, { N: 'nats://other' }, 'nats://other'],
  ])('connects %j with %j to %s', (trigger, env, url) => expect(brokerUrl(trigger, env, defaults)).toBe(url));

  it('refuses a URL variable that is not set, naming it', () => {
    expect(() => brokerUrl({ ...t, broker: 'amqp', url: 'ORDERS_URL' }, {}, defaults)).toThrow(
      /ORDERS_URL, which is not set/,
    );
  });

  it('reports down consumers in /healthz by broker, never by function', () => {
    const s = (broker: 'amqp' | 'nats' | 'redis', connected: boolean) => ({
      broker,
      name: 'secret-queue',
      function: 'secret-fn',
      connected,
      paused: false,
      queued: 0,
      reconnects: 0,
    });
    expect(queueHealth([s('amqp', true)])).toEqual({ ok: true, ms: 0 });
    const h = queueHealth([s('amqp', false), s('amqp', false), s('nats', false), s('redis', true)]);
    expect(h.ok).toBe(false);
    expect(h.error).toBe('queue consumers disconnected: 2 amqp, 1 nats; see /status');
  });
});

describe('Redis stream consumers left by restarted processes', () => {
  const c = (name: string, pending: number, idle: number) => [
    'name',
    name,
    'pending',
    pending,
    'idle',
    idle,
    'inactive',
    idle,
  ];
  it.each([
    ['idle for two hours, nothing pending', [c('old', 0, 7_200_000)], ['old']],
    ['entries still pending', [c('old', 3, 7_200_000)], []],
    ['recently active', [c('busy', 0, 1000)], []],
    ['this process', [c('me', 0, 7_200_000)], []],
  ])('%s', (_, info, stale) => expect(staleConsumers(info, 'me')).toEqual(stale));
});
