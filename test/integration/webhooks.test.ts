/**
 * Webhooks and the invoke API over real HTTP, against `faas up` as its own process with real
 * Redis, MinIO and Docker: one test per status path, concurrency, idempotency, per-invocation logs.
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGithub, signTimestamped } from '../../src/triggers/webhook/signature.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { eventually, startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const SECRET = randomBytes(24).toString('hex');
const OLD_SECRET = randomBytes(24).toString('hex');
const TOKEN = randomBytes(24).toString('hex');

/**
 * A request through Node's client, which sends a header given as an array as repeated header
 * lines (fetch joins them into one).
 */
function rawRequest(
  url: string,
  o: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // The path as given, not re-encoded by a URL parser.
    const { hostname, port } = new URL(url);
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    const req = httpRequest(
      { hostname, port, path, method: o.method ?? 'GET', headers: o.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('webhooks and the invoke API', () => {
  let s3: S3Client;
  let p: RunningPlatform;
  const bucket = uniqueName('effects');
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    p = await startPlatformProcess(
      `version: 1
functions:
  hook:
    handler: hook/index.handler
    timeout: 2s
    concurrency: 8
    scale: { max: 4 }
    retry: { attempts: 1 }
    env: { OUT_BUCKET: ${bucket} }
    storage: { write: [${bucket}] }
    triggers:
      - webhook: { path: /hooks/async }
      - webhook: { path: /hooks/sync, method: [GET, POST, PUT], mode: sync }
      - webhook: { path: /hooks/github, secret: HOOK_SECRET, signature: github, idempotencyHeader: X-GitHub-Delivery }
      - webhook: { path: /hooks/stamped, secret: HOOK_SECRET, signature: timestamped, mode: sync }
      - webhook: { path: /hooks/rest, method: [GET, POST], mode: sync, payload: '1.0' }
`,
      ['hook'],
      {
        HOOK_SECRET: SECRET,
        FAAS_API_TOKEN: TOKEN,
        FAAS_HOST: '127.0.0.1',
        FAAS_BODY_LIMIT: String(64 * 1024),
        // The burst test opens 1,000 connections at once from one address, over the default cap.
        FAAS_MAX_CONNECTIONS_PER_SOURCE: '2000',
      },
    );
  }, 120_000);

  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
    await dropBucket(s3, bucket);
    s3?.destroy();
  });

  it('200: a sync webhook returns the handler result', async () => {
    const res = await fetch(`${p.url}/hooks/sync?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const event = (await res.json()) as Record<string, unknown>;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /hooks/sync',
      rawPath: '/hooks/sync',
      queryStringParameters: { x: '1' },
      requestContext: { http: { method: 'POST', path: '/hooks/sync' } },
      body: '{"a":1}',
      isBase64Encoded: false,
    });
  });

  it('payload 2.0: headers, cookies, repeated query parameters and a binary body as API Gateway sends them', async () => {
    const bytes = randomBytes(64);
    // The query as sent, a raw `"` included (a URL parser would re-encode it).
    const res = await rawRequest(`${p.url}/hooks/sync?tag=a&tag=b&name=J%C3%BCrgen+M&e="q"`, {
      method: 'POST',
      headers: {
        'content-type': 'image/png',
        'x-multi': ['one', 'two'],
        cookie: 'a=1; b=2',
        'user-agent': 'webhook-test/1',
      },
      body: bytes,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const event = JSON.parse(res.body.toString('utf8')) as Record<string, unknown> & {
      headers: Record<string, string>;
      requestContext: Record<string, unknown>;
    };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /hooks/sync',
      rawPath: '/hooks/sync',
      rawQueryString: 'tag=a&tag=b&name=J%C3%BCrgen+M&e="q"',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { tag: 'a,b', name: 'Jürgen M', e: '"q"' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });
    expect(event.headers).toMatchObject({ 'x-multi': 'one,two', 'user-agent': 'webhook-test/1' });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      routeKey: 'POST /hooks/sync',
      stage: '$default',
      http: {
        method: 'POST',
        path: '/hooks/sync',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'webhook-test/1',
      },
    });
    expect(typeof event.requestContext.requestId).toBe('string');
    expect(Math.abs((event.requestContext.timeEpoch as number) - Date.now())).toBeLessThan(60_000);
  });

  it('payload 2.0: a bare string is a 200 JSON response with the string as its body', async () => {
    const res = await fetch(`${p.url}/hooks/sync?mode=string`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('plain words');
  });

  it('payload 2.0: cookies become Set-Cookie headers; multiValueHeaders are not part of 2.0', async () => {
    const res = await fetch(`${p.url}/hooks/sync?mode=cookies`);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(res.headers.get('x-single')).toBe('one');
    expect(res.headers.get('x-multi')).toBeNull();
    expect(await res.text()).toBe('with cookies');
  });

  it('payload 1.0: the REST API event, with single- and multi-value headers and parameters', async () => {
    const res = await rawRequest(`${p.url}/hooks/rest?mode=wrapped&a=1&a=2`, {
      headers: { 'x-multi': ['one', 'two'], cookie: 'a=1' },
    });
    expect(res.status).toBe(200);
    const event = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    expect(event).toMatchObject({
      version: '1.0',
      resource: '/hooks/rest',
      path: '/hooks/rest',
      httpMethod: 'GET',
      headers: { 'x-multi': 'two', cookie: 'a=1' },
      multiValueHeaders: { 'x-multi': ['one', 'two'], cookie: ['a=1'] },
      queryStringParameters: { mode: 'wrapped', a: '2' },
      multiValueQueryStringParameters: { mode: ['wrapped'], a: ['1', '2'] },
      pathParameters: null,
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        httpMethod: 'GET',
        resourcePath: '/hooks/rest',
        stage: '$default',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
  });

  it('payload 1.0: headers and multiValueHeaders are sent, cookies are not part of 1.0', async () => {
    const res = await rawRequest(`${p.url}/hooks/rest?mode=cookies`, {});
    expect(res.status).toBe(200);
    expect(res.headers['x-single']).toBe('one');
    expect(res.headers['x-multi']).toBe('m1, m2');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('502: payload 1.0 infers nothing, so a bare string is a malformed response', async () => {
    const res = await fetch(`${p.url}/hooks/rest?mode=string`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { kind: 'bad-response' } });
  });

  it("200: a sync webhook answers with the handler's status, headers and binary body exactly", async () => {
    const payload = randomBytes(4096);
    const res = await fetch(`${p.url}/hooks/sync?mode=binary`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: payload,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo-length')).toBe('4096');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer()).equals(payload)).toBe(true);
  });

  it("a handler's framing headers are dropped: two responses on one kept-alive connection arrive whole", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = () =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string; socket: unknown }>(
          (resolve, reject) => {
            const req = httpRequest(`${p.url}/hooks/sync?mode=framing`, { agent }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  headers: res.headers,
                  body: Buffer.concat(chunks).toString('utf8'),
                  socket: req.socket,
                }),
              );
              res.on('error', reject);
            });
            req.on('error', reject);
            req.end();
          },
        );
      const first = await get();
      const second = await get();
      for (const r of [first, second]) {
        expect(r.status).toBe(200);
        expect(r.body).toBe('hello-SMUGGLED');
        expect(r.headers['content-length']).toBe('14');
        expect(r.headers['transfer-encoding']).toBeUndefined();
        expect(r.headers['x-kept']).toBe('yes');
        expect(r.headers['x-faas-invocation-id']).toMatch(/^hook\.[0-9a-f]+$/);
      }
      // The handler's "Connection: close" did not end the connection either.
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('502: a header value with a line break is a malformed response, named', async () => {
    const res = await fetch(`${p.url}/hooks/sync?mode=badheader`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { kind: string; message: string } };
    expect(body.error.kind).toBe('bad-response');
    expect(body.error.message).toContain('header x-bad has a line break');
    expect(res.headers.get('x-faas-invocation-id')).toMatch(/^hook\./);
  });

  it('202: an async webhook answers with the invocation id and its location', async () => {
    const res = await fetch(`${p.url}/hooks/async`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(res.headers.get('location')).toBe(`/invocations/${id}`);
    const rec = await eventually('the invocation to finish', async () => {
      const r = (await (await fetch(`${p.url}/invocations/${id}`, { headers: auth })).json()) as {
        status: string;
      };
      return r.status === 'succeeded' ? r : undefined;
    });
    expect(rec).toMatchObject({
      id,
      function: 'hook',
      status: 'succeeded',
      result: { body: 'hello', requestContext: { http: { method: 'POST' } } },
    });
  });

  it('400: a body declared as JSON that does not parse', async () => {
    const res = await fetch(`${p.url}/hooks/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(res.status).toBe(400);
  });

  it.each([
    ['missing', {}],
    ['wrong', { 'x-hub-signature-256': signGithub('not-the-secret', '{"ok":true}') }],
    ['tampered', { 'x-hub-signature-256': signGithub(SECRET, '{"ok":false}') }],
  ])('401: GitHub-style signature %s', async (_name, headers) => {
    const res = await fetch(`${p.url}/hooks/github`, { method: 'POST', headers, body: '{"ok":true}' });
    expect(res.status).toBe(401);
  });

  it('401: a stale timestamped signature; 200 with a fresh one from a rotated secret list', async () => {
    const body = '{"event":"x"}';
    const stale = signTimestamped([SECRET], body, Math.floor(Date.now() / 1000) - 3600);
    expect(
      (
        await fetch(`${p.url}/hooks/stamped`, {
          method: 'POST',
          headers: { 'x-faas-signature': stale },
          body,
        })
      ).status,
    ).toBe(401);
    const fresh = signTimestamped([OLD_SECRET, SECRET], body, Math.floor(Date.now() / 1000));
    expect(
      (
        await fetch(`${p.url}/hooks/stamped`, {
          method: 'POST',
          headers: { 'x-faas-signature': fresh },
          body,
        })
      ).status,
    ).toBe(200);
  });

  it('a timestamped delivery replayed is the same invocation and runs once; another second is another delivery', async () => {
    const n = uniqueName('replay');
    const body = JSON.stringify({ n });
    const t = Math.floor(Date.now() / 1000);
    const post = (signature: string, key?: string) =>
      fetch(`${p.url}/hooks/stamped?mode=effect`, {
        method: 'POST',
        headers: {
          'x-faas-signature': signature,
          'content-type': 'application/json',
          ...(key && { 'idempotency-key': key }),
        },
        body,
      });
    const signature = signTimestamped([SECRET], body, t);
    const first = await post(signature);
    // A replay may carry a delivery id of its own: the signature does not cover it.
    const replay = await post(signature, uniqueName('another-delivery'));
    expect([first.status, replay.status]).toEqual([200, 200]);
    const id = first.headers.get('x-faas-invocation-id');
    expect(id).toMatch(/^hook\.[0-9a-f]{32}$/);
    expect(replay.headers.get('x-faas-invocation-id')).toBe(id);
    expect(await first.json()).toEqual({ n });
    expect(await replay.json()).toEqual({ n });
    const again = await post(signTimestamped([SECRET], body, t - 1));
    expect(again.status).toBe(200);
    expect(again.headers.get('x-faas-invocation-id')).not.toBe(id);
    expect(await listKeys(s3, bucket, `effects/${n}/`)).toHaveLength(2);
  });

  it('202 with a valid GitHub signature; the delivery id deduplicates', async () => {
    const body = '{"ok":true}';
    const headers = { 'x-hub-signature-256': signGithub(SECRET, body), 'x-github-delivery': uniqueName('d') };
    const a = await fetch(`${p.url}/hooks/github`, { method: 'POST', headers, body });
    const b = await fetch(`${p.url}/hooks/github`, { method: 'POST', headers, body });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(((await a.json()) as { id: string }).id).toBe(((await b.json()) as { id: string }).id);
  });

  it('401: the invoke API without the bearer token', async () => {
    expect((await fetch(`${p.url}/functions/hook/invoke`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${p.url}/functions`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    expect((await fetch(`${p.url}/functions`, { headers: auth })).status).toBe(200);
  });

  it('404 for an unknown path, 405 for a wrong method', async () => {
    expect((await fetch(`${p.url}/hooks/nope`, { method: 'POST' })).status).toBe(404);
    const res = await fetch(`${p.url}/hooks/async`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    // HEAD is not GET: a webhook that declares GET runs nothing for a HEAD.
    const head = await fetch(`${p.url}/hooks/sync`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('GET, POST, PUT');
  });

  it('413: a body over the limit, refused while it streams', async () => {
    const big = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 16; i++) controller.enqueue(new Uint8Array(16 * 1024));
        controller.close();
      },
    });
    const res = await fetch(`${p.url}/hooks/async`, {
      method: 'POST',
      body: big,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('504: a sync call whose function runs past its timeout', async () => {
    const res = await fetch(`${p.url}/hooks/sync?mode=slow`);
    expect(res.status).toBe(504);
  }, 30_000);

  it('the same Idempotency-Key posted 5 times runs once and returns one id', async () => {
    const key = uniqueName('idem');
    const n = uniqueName('n');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${p.url}/hooks/async?mode=effect`, {
        method: 'POST',
        headers: { 'idempotency-key': key },
        body: JSON.stringify({ n }),
      });
      expect(res.status).toBe(202);
      ids.add(((await res.json()) as { id: string }).id);
    }
    expect(ids.size).toBe(1);
    await eventually('the effect', async () =>
      (await listKeys(s3, bucket, `effects/${n}/`)).length > 0 ? true : undefined,
    );
    const [id] = [...ids];
    await eventually('the record', async () => {
      const r = (await (await fetch(`${p.url}/invocations/${id}`, { headers: auth })).json()) as {
        status: string;
      };
      return r.status === 'succeeded' ? true : undefined;
    });
    expect(await listKeys(s3, bucket, `effects/${n}/`)).toHaveLength(1);
  }, 60_000);

  it('1,000 concurrent async posts: 1,000 effects, none lost, none doubled', async () => {
    const run = uniqueName('burst');
    const posts = Array.from({ length: 1000 }, (_, i) =>
      fetch(`${p.url}/hooks/async?mode=effect`, {
        method: 'POST',
        body: JSON.stringify({ n: `${run}-${i}` }),
      }).then((r) => r.status),
    );
    const statuses = await Promise.all(posts);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1000);
    const effects = await eventually(
      '1,000 effects',
      async () => {
        const k = await listKeys(s3, bucket, 'effects/');
        const mine = k.filter((x) => x.startsWith(`effects/${run}-`));
        return mine.length >= 1000 ? mine : undefined;
      },
      180_000,
    );
    const perEvent = new Map<string, number>();
    for (const k of effects) {
      const n = k.split('/')[1] as string;
      perEvent.set(n, (perEvent.get(n) ?? 0) + 1);
    }
    expect(perEvent.size).toBe(1000);
    expect([...perEvent.values()].every((c) => c === 1)).toBe(true);
  }, 240_000);

  it('/healthz checks each service; /metrics has invocations, containers, backlog and durations', async () => {
    const health = (await (await fetch(`${p.url}/healthz`)).json()) as {
      status: string;
      checks: Record<string, { ok: boolean }>;
    };
    expect(health.status).toBe('ok');
    expect(Object.keys(health.checks).sort()).toEqual(['docker', 'minio', 'redis']);
    const metrics = await (await fetch(`${p.url}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/^faas_invocations_total\{function="hook",outcome="ok"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^faas_invocations_total\{function="hook",outcome="timeout"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^faas_containers\{function="hook",state="(idle|busy)"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^faas_backlog\{function="hook",state="waiting"\} \d+$/m);
    expect(metrics).toMatch(/^faas_invocation_duration_seconds_count\{function="hook"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^faas_cold_starts_total\{function="hook",prewarmed="false"\} [1-9]\d*$/m);
  });

  it('GET /invocations/:id shows only that invocation’s logs, with several at once in one container', async () => {
    const tags = Array.from({ length: 6 }, (_, i) => `tag${i}-${randomBytes(3).toString('hex')}`);
    const res = await Promise.all(
      tags.map((tag) => fetch(`${p.url}/hooks/async?mode=chatty&tag=${tag}`, { method: 'POST' })),
    );
    const ids = await Promise.all(res.map(async (r) => ((await r.json()) as { id: string }).id));
    for (const [i, id] of ids.entries()) {
      const rec = await eventually('chatty record', async () => {
        const r = (await (await fetch(`${p.url}/invocations/${id}`, { headers: auth })).json()) as {
          status: string;
          logs: Array<{ msg: string }>;
        };
        return r.status === 'succeeded' ? r : undefined;
      });
      expect(rec.logs.map((l) => l.msg)).toEqual([0, 1, 2, 3, 4].map((n) => `${tags[i]} line ${n}`));
    }
  }, 60_000);
});
