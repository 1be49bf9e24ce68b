import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import type { WebhookTrigger } from '../../src/manifest/types.js';
import type { RoutedEvent } from '../../src/queue/enqueue.js';
import type { InvocationRecord } from '../../src/queue/records.js';
import { httpResult, webhookRoutes } from '../../src/triggers/webhook/routes.js';
import { fnSpec } from '../helpers/spec.js';

function record(over: Partial<InvocationRecord>): InvocationRecord {
  return {
    id: 'f.1',
    function: 'f',
    status: 'succeeded',
    logs: [],
    attempts: 1,
    cold: false,
    timings: { enqueuedAt: 0 },
    source: 'webhook',
    ...over,
  };
}

/** The webhook routes in memory, with a queue that records what it was given. */
function app(triggers: WebhookTrigger[], result: unknown) {
  const queued: RoutedEvent[] = [];
  const a = new Hono();
  a.onError(onError(() => undefined));
  webhookRoutes(a, {
    functions: [fnSpec('f', { timeoutMs: 1000, triggers })],
    enqueue: { enqueue: async (events) => (queued.push(...events), events.map(() => 'f.1')) },
    wait: async () => record({ result }),
    secret: () => undefined,
    bodyLimit: 1 << 20,
  });
  return { a, queued };
}

const hook = (path: string, payload: '1.0' | '2.0'): WebhookTrigger => ({
  type: 'webhook',
  path,
  methods: ['POST'],
  mode: 'sync',
  payload,
});

describe('webhook routes', () => {
  it("queue the trigger's payload format and map the response under the same rules", async () => {
    const { a, queued } = app([hook('/v2', '2.0'), hook('/v1', '1.0')], 'just text');
    const v2 = await a.request('/v2?x=1', { method: 'POST', body: 'b', headers: { 'x-a': '1' } });
    expect(v2.status).toBe(200);
    expect(await v2.text()).toBe('just text');
    const v1 = await a.request('/v1', { method: 'POST', body: 'b' });
    expect(v1.status).toBe(502);
    expect(queued.map((e) => e.payload)).toMatchObject([
      {
        source: 'webhook',
        sync: true,
        event: { version: '2.0', routeKey: 'POST /v2', queryStringParameters: { x: '1' }, body: 'b' },
      },
      {
        source: 'webhook',
        sync: true,
        event: { version: '1.0', httpMethod: 'POST', resource: '/v1', body: 'b' },
      },
    ]);
  });
});

describe('httpResult', () => {
  it.each([
    ['no result in time', undefined, '2.0', 504],
    [
      'a failed invocation',
      record({ status: 'failed', error: { kind: 'handler', message: 'x' } }),
      '2.0',
      502,
    ],
    [
      'a timed-out invocation',
      record({ status: 'failed', error: { kind: 'timeout', message: 'x' } }),
      '2.0',
      504,
    ],
    ['a malformed 1.0 response', record({ result: { body: 'no status' } }), '1.0', 502],
    ['a 2.0 full response', record({ result: { statusCode: 418, body: 'teapot' } }), '2.0', 418],
    ['the invoke API, any value', record({ result: { statusCode: 418 } }), false, 200],
  ] as const)('%s: %s', async (_what, rec, format, status) => {
    const res = httpResult(rec, 'f.1', 1000, format);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-faas-invocation-id')).toBe('f.1');
  });

  it('the invoke API answers the result itself as JSON, statusCode and all', async () => {
    const res = httpResult(record({ result: { statusCode: 418 } }), 'f.1', 1000, false);
    expect(await res.json()).toEqual({ statusCode: 418 });
  });
});
