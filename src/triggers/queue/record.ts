/**
 * Queue messages in the shape Lambda gives an SQS handler, and the identities that make a
 * redelivered message the same invocation. Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import type { QueueTrigger } from '../../manifest/types.js';
import type { SqsRecord } from '../../queue/payload.js';

export type Broker = QueueTrigger['broker'];

/** A message as one broker delivered it, before it becomes a record. */
export interface BrokerMessage {
  broker: Broker;
  /** The queue, subject or stream key of the trigger. */
  name: string;
  /** Stays the same when the broker delivers the message again; see the identity functions. */
  identity: string;
  body: string;
  /** Deliveries so far, this one included (1 when the broker does not count). */
  receiveCount: number;
  /** When the message was published (ms since epoch); when it was received, if unknown. */
  sentAt: number;
  receivedAt: number;
  /** Headers or other fields: strings, or numbers. */
  attributes: Record<string, string | number>;
  /** Broker-specific extras for `attributes` (`SequenceNumber`). */
  extra?: Record<string, string>;
  /** Called while queueing is retried (Redis down), to keep the message from being redelivered. */
  keepAlive?: () => void;
}

/** The message attribute that marks a body given in base64 (its bytes were not UTF-8 text). */
export const BODY_ENCODING_ATTRIBUTE = 'faas-body-encoding';

/**
 * A message's bytes as a record's `body`: the text when they are UTF-8, else base64 with the
 * attribute BODY_ENCODING_ATTRIBUTE = 'base64' (an SQS body is text; bytes decoded as UTF-8
 * would be lost for good).
 * @example messageBody(Buffer.from([0xff])) // { body: '/w==', attributes: { 'faas-body-encoding': 'base64' } }
 */
export function messageBody(bytes: Uint8Array): { body: string; attributes: Record<string, string> } {
  try {
    // ignoreBOM: a leading BOM is part of the body, as it was published.
    return { body: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), attributes: {} };
  } catch {
    return {
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      attributes: { [BODY_ENCODING_ATTRIBUTE]: 'base64' },
    };
  }
}

/**
 * An AMQP header value as a message attribute: strings and numbers as they are, booleans and
 * big integers as text, bytes in base64, tables and arrays as JSON; undefined for none (null).
 */
export function headerAttribute(value: unknown): string | number | undefined {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value === null || value === undefined) return undefined;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  } catch {
    return String(value);
  }
}

/** `md5` as SQS computes `md5OfBody`. */
export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/**
 * An AMQP message's identity: the publisher's `message-id` property, or else a hash of the queue
 * and body, so a redelivery after a crash is still recognised, at the price that two distinct
 * messages with equal bodies and no message id run once.
 * @example amqpIdentity('orders', { messageId: 'o-1' }, '{}') // 'id:o-1'
 */
export function amqpIdentity(queue: string, props: { messageId?: unknown }, body: string): string {
  if (typeof props.messageId === 'string' && props.messageId !== '') return `id:${props.messageId}`;
  return `body:${createHash('sha256').update(`${queue}\n${body}`).digest('hex')}`;
}

/** A JetStream message's identity: its stream and sequence (publishers dedupe with `Nats-Msg-Id`). */
export function natsIdentity(stream: string, sequence: number): string {
  return `seq:${stream}:${sequence}`;
}

/** A Redis stream entry's identity: its entry id. */
export function redisIdentity(entryId: string): string {
  return `entry:${entryId}`;
}

/** The dedup key of a message: the same message, however often delivered, is one invocation. */
export function messageDedupKey(m: Pick<BrokerMessage, 'broker' | 'name' | 'identity'>): string {
  return `queue:${m.broker}:${m.name}:${m.identity}`;
}

/** A Redis stream entry id's time part (`1700000000000-0` → 1700000000000). */
export function entryTime(entryId: string): number | undefined {
  const ms = Number(entryId.split('-')[0]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * A Redis stream entry's flat field list as body and attributes: the `body` field is the body
 * (empty when missing), every other field an attribute (the first of repeated names wins).
 * @example streamFields(['body', 'hi', 'kind', 'x']) // { body: 'hi', attributes: { kind: 'x' } }
 */
export function streamFields(fields: string[]): { body: string; attributes: Record<string, string> } {
  let body = '';
  const attributes: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [k, v] = [fields[i]!, fields[i + 1]!];
    if (k === 'body') body = v;
    else if (!(k in attributes)) attributes[k] = v;
  }
  return { body, attributes };
}

/**
 * The SQS-like record of a message: what a Lambda SQS handler reads, with `messageId` derived
 * from the identity (stable across redeliveries) and the broker named in `eventSourceARN`.
 */
export function sqsRecord(m: BrokerMessage, region: string): SqsRecord {
  const messageAttributes: SqsRecord['messageAttributes'] = {};
  for (const [k, v] of Object.entries(m.attributes)) {
    messageAttributes[k] = { stringValue: String(v), dataType: typeof v === 'number' ? 'Number' : 'String' };
  }
  return {
    messageId: messageUuid(messageDedupKey(m)),
    receiptHandle: m.identity,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: m.broker,
      ApproximateFirstReceiveTimestamp: String(m.receivedAt),
      ...m.extra,
    },
    messageAttributes,
    md5OfBody: md5(m.body),
    // Handlers that check for SQS keep working; the ARN says which broker it really was.
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:faas:${m.broker}:${region}:local:${m.name}`,
    awsRegion: region,
  };
}

/** A UUID-shaped id derived from `key`, as SQS message ids look. */
export function messageUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
