/**
 * Queue triggers in the fault and integration scenarios: the manifest of a `keyed` function fed
 * by a queue, and removing what a scenario declared in the broker.
 */
import { connect as amqpConnect } from 'amqplib';
import { connect as natsConnect } from 'nats';
import type { Broker } from '../../../src/triggers/queue/record.js';
import { requireRedis } from '../../helpers/services.js';

/** One `keyed` function (see fixtures/keyed) run by each message of `name` on `broker`. */
export function queueManifest(
  fns: Array<{ fn: string; broker: Broker; name: string; urlVar?: string }>,
  o: { out: string; retry?: string; maxBacklog?: number },
): string {
  const lines = ['version: 1', 'functions:'];
  for (const f of fns) {
    lines.push(
      `  ${f.fn}:`,
      '    handler: keyed/index.handler',
      '    timeout: 10s',
      '    concurrency: 8',
      '    scale: { min: 0, max: 2, idleTimeout: 60s }',
      `    retry: ${o.retry ?? '{ attempts: 3, backoff: 200ms, maxBackoff: 2s }'}`,
      `    env: { OUT_BUCKET: ${o.out}, DELAY_MS: "0" }`,
      `    storage: { write: [${o.out}] }`,
      '    triggers:',
      `      - queue: { broker: ${f.broker}, name: ${f.name}, maxBacklog: ${o.maxBacklog ?? 1000}${f.urlVar ? `, url: ${f.urlVar}` : ''} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Removes a queue, stream or stream key a scenario used (ignores what is already gone). */
export async function dropBrokerQueue(broker: Broker, url: string, name: string): Promise<void> {
  if (broker === 'amqp') {
    const model = await amqpConnect(url, { timeout: 3000 });
    model.on('error', () => undefined);
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteQueue(name).catch(() => undefined);
    await model.close().catch(() => undefined);
  } else if (broker === 'nats') {
    const nc = await natsConnect({ servers: url, timeout: 3000 });
    const jsm = await nc.jetstreamManager();
    const stream = await jsm.streams.find(name).catch(() => undefined);
    if (stream) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  } else {
    // A single Redis or a cluster (`redis+cluster://`), whichever the URL names.
    const redis = await requireRedis(url);
    await redis.del(name).catch(() => undefined);
    redis.disconnect();
  }
}
