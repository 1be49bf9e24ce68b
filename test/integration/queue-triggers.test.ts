/**
 * Queue triggers against the real brokers (the shared RabbitMQ, NATS and Redis of
 * `npm run services:up`): 1,000 messages, some published twice with the same publisher-set id,
 * each run exactly once in effect; a poison message ends in the dead-letter set after its retries.
 */
import { describe, expect, it } from 'vitest';
import { defaultUrl, publisher, requireBroker } from '../helpers/brokers.js';
import type { Broker } from '../../src/triggers/queue/record.js';
import {
  deadLetters,
  dropBrokerQueue,
  inputKeys,
  queueManifest,
  report,
  scenario,
  seconds,
  settle,
  shortName,
  startFaas,
} from '../faults/harness.js';

const N = 1000;
/** Every this many messages one is published a second time with the same id. */
const TWICE_EVERY = 20;

describe.each<Broker>(['amqp', 'nats', 'redis'])('a %s queue trigger', (broker) => {
  const fn = shortName(`q${broker}`);
  const out = shortName('qint-out');
  const name = `faas-test-${fn}`;
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () =>
      queueManifest([{ fn, broker, name }], {
        out,
        retry: '{ attempts: 2, backoff: 100ms, maxBackoff: 100ms }',
      }),
  });

  it(`runs each of ${N} messages once in effect; a poison message is dead-lettered after its retries`, async () => {
    await requireBroker(broker);
    try {
      const p = await startFaas('up', sc.dir, { FAAS_PREWARM: '1' });
      sc.procs.push(p);
      const pub = await publisher(broker, defaultUrl(broker), name);
      const keys = inputKeys('m-', N);
      const t0 = Date.now();
      let twice = 0;
      for (const [i, key] of keys.entries()) {
        await pub.publish(key, key);
        if (i % TWICE_EVERY === 0) {
          await pub.publish(key, key);
          twice++;
        }
      }
      await pub.publish('poison-0001', 'poison-0001');
      await pub.close();
      const published = Date.now();
      // Outputs of the m- messages, plus the poison message in the failed set.
      const { effect, counts } = await settle(sc.s3, out, fn, {
        prefix: 'm-',
        expected: N + 1,
        timeoutMs: 120_000,
      });
      const dead = await deadLetters(p.url as string, fn);
      report(`queue ${broker}`, {
        N,
        publishedTwice: twice,
        publish: seconds(t0, published),
        allRun: seconds(t0, effect.lastOutputAt),
        outputs: effect.outputs.length,
        executions: effect.executions,
        duplicates: effect.duplicates,
        deadLetters: dead.length,
      });
      expect(effect.outputs).toEqual(keys);
      expect(effect.duplicates).toBe(0);
      expect(counts.failed).toBe(1);
      expect(dead).toHaveLength(1);
      const poison = dead[0] as unknown as {
        attempts: number;
        event: { source: string; record: { body: string; eventSource: string } };
      };
      expect(poison.attempts).toBe(2);
      expect(poison.event.source).toBe('queue');
      expect(poison.event.record.body).toBe('poison-0001');
    } finally {
      await dropBrokerQueue(broker, defaultUrl(broker), name).catch(() => undefined);
    }
  }, 240_000);
});
