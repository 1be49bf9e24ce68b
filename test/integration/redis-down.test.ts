/**
 * With Redis unreachable, nothing is acknowledged: webhooks, invokes and batches answer 503, never 202.
 * The producer talks to a real port where no Redis listens.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Producer } from '../../src/queue/producer.js';
import { RecordStore } from '../../src/queue/records.js';
import { connectRedisFailFast } from '../../src/queue/redis.js';
import { ResultWaiter } from '../../src/queue/waiter.js';
import { fnSpec } from '../helpers/spec.js';

describe('Redis unreachable', () => {
  it('answers 503 with Retry-After to webhooks and invokes', async () => {
    const redis = connectRedisFailFast('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const spec = fnSpec('down', {
      triggers: [{ type: 'webhook', path: '/hooks/down', methods: ['POST'], mode: 'async', payload: '2.0' }],
    });
    const functions = { down: spec };
    const producer = new Producer(redis, functions, 60);
    const records = new RecordStore(redis, 60);
    const app = createApp({
      functions,
      enqueue: producer,
      records,
      waiter: new ResultWaiter(() => redis.duplicate(), records),
      jobStatus: async () => undefined,
      health: async () => ({ ok: false, checks: {} }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      bodyLimit: 1024 * 1024,
      logger: silentLogger,
      secret: () => undefined,
    });
    try {
      const hook = await app.request('/hooks/down', { method: 'POST', body: 'x' });
      expect(hook.status).toBe(503);
      expect(hook.headers.get('retry-after')).toBe('5');
      for (const [path, body] of [
        ['/functions/down/invoke?async=1', '{}'],
        ['/functions/down/invoke', '{}'],
        ['/functions/down/invocations', '{"events":[{},{}]}'],
      ] as const) {
        const res = await app.request(path, { method: 'POST', body });
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after'), path).toBe('5');
        expect(await res.text(), path).toContain('the queue is unavailable, nothing was accepted');
      }
    } finally {
      await producer.close().catch(() => undefined);
      redis.disconnect();
    }
  });
});
