/**
 * The reserved webhook paths come from the routes the API registers: a route added without
 * reserving its pattern fails here, before a manifest could shadow it.
 */
import { describe, expect, it } from 'vitest';
import type { AdminDeps } from '../../src/api/admin.js';
import { createApp, invokesAsync } from '../../src/api/app.js';
import { allowedMethods, covers, RESERVED_PATTERNS, reservedBy } from '../../src/http/routes.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { RecordStore } from '../../src/queue/records.js';
import type { ResultWaiter } from '../../src/queue/waiter.js';
import { minioTargetRoute } from '../../src/triggers/bucket/target.js';
import { fnSpec } from '../helpers/spec.js';

const WEBHOOKS = ['/hooks/a', '/b'];

/** The API as `faas up` builds it, every optional part on, with fakes nothing calls. */
function realApp() {
  const spec = fnSpec('hook', {
    triggers: WEBHOOKS.map((path) => ({
      type: 'webhook' as const,
      path,
      methods: ['POST'],
      mode: 'async' as const,
      payload: '2.0' as const,
    })),
  });
  const functions = { hook: spec };
  const enqueue = { enqueue: async () => [] };
  const app = createApp({
    functions,
    enqueue,
    records: {} as RecordStore,
    waiter: {} as ResultWaiter,
    jobStatus: async () => undefined,
    health: async () => ({ ok: true, checks: {} }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    token: 't'.repeat(20),
    bodyLimit: 1024,
    logger: silentLogger,
    secret: () => undefined,
    rateLimit: { ratePerSec: 10, burst: 20 },
    admin: {
      functions,
      backlog: async () => ({}) as Awaited<ReturnType<AdminDeps['backlog']>>,
      pools: async () => ({ instances: 0, byFunction: {}, warm: 0 }),
      deadLetters: {} as AdminDeps['deadLetters'],
    },
  });
  minioTargetRoute(app, {
    token: undefined,
    functions: [spec],
    enqueue,
    logger: silentLogger,
    bodyLimit: 1024,
  });
  return app;
}

/** A literal path the pattern matches: each parameter and the wildcard filled in. */
function example(pattern: string): string {
  return pattern.replace(/:[^/]+/g, 'p').replace(/\*$/, 'w/x');
}

describe('reserved webhook paths', () => {
  it('cover every route and middleware the API registers, except the manifest webhooks', () => {
    const routes = realApp().routes.filter((r) => !WEBHOOKS.includes(r.path));
    expect(routes.length).toBeGreaterThan(10);
    const uncovered = routes.filter((r) => !reservedBy(example(r.path)));
    expect(uncovered.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('include the console, which has no route yet', () => {
    expect(reservedBy('/ui')).toBe('/ui');
    expect(reservedBy('/ui/invocations/x')).toBe('/ui/*');
  });

  const cases: Array<[string, string, boolean]> = [
    ['/status', '/status', true],
    ['/STATUS', '/status', true],
    ['/status/x', '/status', false],
    ['/hooks/status', '/status', false],
    ['/functions/:name/invoke', '/functions/x/invoke', true],
    ['/functions/:name/invoke', '/functions/x', false],
    ['/functions/:name/invoke', '/functions/x/invoke/y', false],
    ['/functions/*', '/functions', true],
    ['/functions/*', '/functions/a/b/c', true],
    ['/functions/*', '/functionsx', false],
    ['/dlq/:id/retry', '/dlq/abc/retry', true],
    ['/minio/events', '/minio/events', true],
    ['/minio/events', '/minio/other', false],
  ];
  it.each(cases)('%s covers %s: %s', (pattern, path, expected) => {
    expect(covers(pattern, path)).toBe(expected);
  });

  it('leave ordinary webhook paths free', () => {
    for (const path of ['/hooks/csv', '/github', '/healthz-proxy', '/api/status', '/minio']) {
      expect(reservedBy(path), path).toBeUndefined();
    }
    expect(RESERVED_PATTERNS).toContain('/minio/events');
  });
});

describe('a route asked with a method it does not take', () => {
  const auth = { authorization: `Bearer ${'t'.repeat(20)}` };

  it('answers 405 naming the methods it takes, in Allow and in the error', async () => {
    const app = realApp();
    const res = await app.request('/functions/hook/invoke', { headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({
      error: { code: 'method_not_allowed', message: '/functions/hook/invoke accepts POST' },
    });
    const put = await app.request('/invocations/x', { method: 'PUT', headers: auth });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')?.split(', ')).toEqual(expect.arrayContaining(['GET', 'HEAD']));
  });

  it('still answers 404 where no route is, in any method, and 401 before either without the token', async () => {
    const app = realApp();
    for (const [path, method] of [
      ['/nope', 'GET'],
      ['/functions/hook/invoke/more', 'POST'],
      ['/FUNCTIONS/hook/invoke', 'GET'],
      ['/functions/hook/invoke/', 'POST'],
      ['/healthz/', 'GET'],
    ] as const) {
      const res = await app.request(path, { method, headers: auth });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await app.request('/functions/hook/invoke')).status).toBe(401);
  });

  const routes = [
    { method: 'ALL', path: '/functions/*' },
    { method: 'POST', path: '/functions/:name/invoke' },
    { method: 'GET', path: '/functions/:name' },
    { method: 'DELETE', path: '/functions/:name' },
  ];
  const cases: Array<[string, string[]]> = [
    ['/functions/x/invoke', ['POST']],
    ['/functions/x', ['GET', 'HEAD', 'DELETE']],
    ['/functions', []],
    ['/Functions/x', []],
    ['/functions/x/y', []],
    ['/functions/x/invoke/', []],
    ['/functions//x/invoke', []],
  ];
  it.each(cases)('%s takes %j', (path, methods) => {
    expect(allowedMethods(routes, path)).toEqual(methods);
  });
});

describe('an invoke asking to be queued', () => {
  const cases: Array<[string | undefined, string | undefined, boolean]> = [
    [undefined, undefined, false],
    ['', undefined, true],
    ['1', undefined, true],
    ['true', undefined, true],
    ['YES', undefined, true],
    [' yes ', undefined, true],
    ['0', undefined, false],
    ['false', undefined, false],
    ['no', 'Event', false],
    [undefined, 'Event', true],
    [undefined, 'RequestResponse', false],
  ];
  it.each(cases)('async=%j with X-Amz-Invocation-Type %j: %s', (query, type, expected) => {
    expect(invokesAsync(query, type)).toBe(expected);
  });

  it('refuses what it does not understand, naming the values it takes', () => {
    expect(() => invokesAsync('maybe', undefined)).toThrow(/async=maybe is not understood: use async=1/);
    expect(() => invokesAsync(undefined, 'DryRun')).toThrow(/DryRun is not supported: use Event/);
  });

  it('is answered 202 through the route, and 400 for a typo', async () => {
    const app = realApp();
    const auth = { authorization: `Bearer ${'t'.repeat(20)}` };
    const ask = (q: string, headers: Record<string, string> = {}) =>
      app.request(`/functions/hook/invoke${q}`, {
        method: 'POST',
        body: '{}',
        headers: { ...auth, ...headers },
      });
    expect((await ask('?async=yes')).status).toBe(202);
    expect((await ask('', { 'X-Amz-Invocation-Type': 'Event' })).status).toBe(202);
    const typo = await ask('?async=soon');
    expect(typo.status).toBe(400);
    expect(await typo.json()).toMatchObject({ error: { code: 'invalid_query' } });
  });
});
