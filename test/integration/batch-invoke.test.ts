/**
 * POST /functions/:name/invocations on the real platform: many async invocations in one request,
 * each run once as its own invocation; a batch posted again with the same Idempotency-Key queues
 * nothing twice; a body that is not a batch is refused whole, naming what to fix. The single
 * invoke route's ways of asking for async, and its refusals.
 */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { eventually, startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireRedis, uniqueName } from '../helpers/services.js';

interface Invocation {
  status: string;
  result?: { echo: unknown; fn: string };
  attempts: number;
}

describe('batch invocations', () => {
  it('queues each event as its own invocation, once per idempotency key, and refuses bad batches', async () => {
    const redis = await requireRedis();
    await requireDocker();
    const fn = uniqueName('batch');
    const p = await startPlatformProcess(
      `version: 1\nfunctions:\n  ${fn}:\n    handler: echo/index.handler\n    concurrency: 8\n    retry: { attempts: 1 }\n`,
      ['echo'],
    );
    const queue = new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX });
    const post = (body: string, headers: Record<string, string> = {}, name = fn) =>
      fetch(`${p.url}/functions/${name}/invocations`, { method: 'POST', body, headers });
    try {
      const events = Array.from({ length: 40 }, (_, i) => ({ n: i, note: i % 2 ? 'odd' : 'even' }));
      const res = await post(JSON.stringify({ events }));
      expect(res.status).toBe(202);
      const { ids } = (await res.json()) as { ids: string[] };
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
      for (const id of ids) expect(id.startsWith(`${fn}.`)).toBe(true);

      const keyed = JSON.stringify({ events: events.slice(0, 10) });
      const first = (await (await post(keyed, { 'Idempotency-Key': 'order-7' })).json()) as { ids: string[] };
      const again = await post(keyed, { 'Idempotency-Key': 'order-7' });
      expect(again.status).toBe(202);
      expect(((await again.json()) as { ids: string[] }).ids).toEqual(first.ids);
      expect(new Set([...ids, ...first.ids]).size).toBe(50);
      // A single invoke's key never names a batch's event: `order-7#0` is an invocation of its own.
      const single = await fetch(`${p.url}/functions/${fn}/invoke?async=1`, {
        method: 'POST',
        body: JSON.stringify({ single: true }),
        headers: { 'Idempotency-Key': 'order-7#0' },
      });
      expect(single.status).toBe(202);
      const singleId = ((await single.json()) as { id: string }).id;
      expect(first.ids).not.toContain(singleId);

      const records = await eventually(
        'all 51 invocations to finish',
        async () => {
          const all = await Promise.all(
            [...ids, ...first.ids, singleId].map(
              async (id) => (await (await fetch(`${p.url}/invocations/${id}`)).json()) as Invocation,
            ),
          );
          return all.every((r) => r.status === 'succeeded') ? all : undefined;
        },
        60_000,
      );
      // Each event reached its own invocation, in the order posted.
      expect(records.slice(0, 40).map((r) => r.result?.echo)).toEqual(events);
      expect(records.slice(40, 50).map((r) => r.result?.echo)).toEqual(events.slice(0, 10));
      expect(records[50]?.result?.echo).toEqual({ single: true });
      expect(records.every((r) => r.attempts === 1 && r.result?.fn === fn)).toBe(true);
      // The keyed batch posted twice made ten jobs, not twenty (and the single invoke its own).
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
      expect(counts).toMatchObject({ completed: 51, failed: 0, waiting: 0, active: 0 });

      const refusals: Array<[string, number, string]> = [
        ['[{}]', 400, 'must be a JSON object {"events": [...]}'],
        ['{"event": {}}', 400, 'must be a JSON object {"events": [...]}'],
        ['', 400, 'must be a JSON object {"events": [...]}'],
        ['{"events": []}', 400, '"events" is empty'],
        [JSON.stringify({ events: Array.from({ length: 1001 }, () => ({})) }), 400, 'at most 1000'],
        ['{"events": [', 400, 'not valid JSON'],
      ];
      for (const [body, status, message] of refusals) {
        const r = await post(body);
        expect(r.status, body.slice(0, 40)).toBe(status);
        expect(((await r.json()) as { error: { message: string } }).error.message).toContain(message);
      }
      const unknown = await post(JSON.stringify({ events: [{}] }), {}, 'no-such-fn');
      expect(unknown.status).toBe(404);
      // The invoke route asked with GET names the method it takes, and runs nothing.
      const get = await fetch(`${p.url}/functions/${fn}/invoke`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(await queue.getJobCounts('completed', 'waiting')).toMatchObject({ completed: 51, waiting: 0 });

      // The ways a caller asks to be answered at once: ?async=yes, a bare ?async, and Lambda's
      // X-Amz-Invocation-Type: Event; a value the API does not know is refused and runs nothing.
      const asks: Array<[string, Record<string, string>]> = [
        ['?async=yes', {}],
        ['?async', {}],
        ['', { 'X-Amz-Invocation-Type': 'Event' }],
      ];
      const queued: string[] = [];
      for (const [query, headers] of asks) {
        const r = await fetch(`${p.url}/functions/${fn}/invoke${query}`, {
          method: 'POST',
          body: '{}',
          headers,
        });
        expect(r.status, query || JSON.stringify(headers)).toBe(202);
        queued.push(((await r.json()) as { id: string }).id);
      }
      await eventually(
        'the three async invokes to finish',
        async () => {
          const all = await Promise.all(
            queued.map(
              async (id) => (await (await fetch(`${p.url}/invocations/${id}`)).json()) as Invocation,
            ),
          );
          return all.every((r) => r.status === 'succeeded') ? all : undefined;
        },
        60_000,
      );
      const typo = await fetch(`${p.url}/functions/${fn}/invoke?async=maybe`, { method: 'POST', body: '{}' });
      expect(typo.status).toBe(400);
      expect(((await typo.json()) as { error: { message: string } }).error.message).toContain('async=1');
      expect(await queue.getJobCounts('completed', 'waiting')).toMatchObject({ completed: 54, waiting: 0 });
    } finally {
      expect(await p.stop()).toBe(0);
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  }, 120_000);
});
