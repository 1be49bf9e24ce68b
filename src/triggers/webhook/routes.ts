import type { Context, Hono } from 'hono';
import { limitBody } from '../../api/body-limit.js';
import { HttpError } from '../../api/errors.js';
import type { FunctionSpec, WebhookTrigger } from '../../manifest/types.js';
import type { Enqueue } from '../../queue/enqueue.js';
import type { InvocationRecord } from '../../queue/records.js';
import { httpEvent, isJson } from './event.js';
import { verifySignature } from './signature.js';

export interface WebhookDeps {
  functions: FunctionSpec[];
  enqueue: Enqueue;
  /** Waits for a finished invocation (sync mode); undefined when the time runs out. */
  wait: (fn: string, id: string, timeoutMs: number) => Promise<InvocationRecord | undefined>;
  /** Resolves a secret's environment variable name to its value. */
  secret: (name: string) => string | undefined;
  bodyLimit: number;
  nowS?: () => number;
}

/**
 * Turns a finished invocation into the response of a synchronous call: 504 with a Location when
 * no result came in time, 504 or 502 with the error when it failed. A webhook (`http`) maps a
 * returned `{ statusCode, headers, body, isBase64Encoded }` onto the response, as API Gateway
 * does; the invoke API answers the result as JSON.
 */
export function httpResult(
  record: InvocationRecord | undefined,
  id: string,
  timeoutMs: number,
  http = true,
): Response {
  const base = { 'X-Faas-Invocation-Id': id };
  if (!record) {
    return Response.json(
      { id, error: { kind: 'timeout', message: `no result within ${timeoutMs} ms` } },
      { status: 504, headers: { ...base, Location: `/invocations/${id}` } },
    );
  }
  if (record.status !== 'succeeded') {
    return Response.json(
      { id, error: record.error },
      { status: record.error?.kind === 'timeout' ? 504 : 502, headers: base },
    );
  }
  const r = record.result as {
    statusCode?: unknown;
    headers?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  } | null;
  if (http && r && typeof r === 'object' && typeof r.statusCode === 'number') {
    const headers = new Headers(base);
    for (const [k, v] of Object.entries((r.headers as Record<string, unknown>) ?? {}))
      headers.set(k, String(v));
    const body =
      r.body === undefined || r.body === null
        ? null
        : r.isBase64Encoded === true
          ? Buffer.from(String(r.body), 'base64')
          : typeof r.body === 'string'
            ? r.body
            : JSON.stringify(r.body);
    return new Response(body, { status: r.statusCode, headers });
  }
  return Response.json(record.result ?? null, { status: 200, headers: base });
}

async function accept(c: Context, spec: FunctionSpec, t: WebhookTrigger, d: WebhookDeps): Promise<Response> {
  const body = Buffer.from(await c.req.arrayBuffer());
  if (t.secret) {
    const secret = d.secret(t.secret);
    if (!secret)
      throw new HttpError(500, 'misconfigured', `webhook secret ${t.secret} is not set in the environment`);
    const headers = Object.fromEntries([...c.req.raw.headers].map(([k, v]) => [k.toLowerCase(), v]));
    const check = verifySignature({
      kind: t.signature,
      secret,
      headers,
      body,
      nowS: d.nowS?.() ?? Date.now() / 1000,
    });
    if (!check.ok) throw new HttpError(401, 'bad_signature', check.reason);
  }
  if (isJson(c.req.header('content-type')) && body.length > 0) {
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'the body is declared as JSON but does not parse');
    }
  }
  const url = new URL(c.req.url);
  const event = httpEvent({
    method: c.req.method,
    path: url.pathname,
    headers: c.req.raw.headers,
    query: Object.fromEntries(url.searchParams),
    body,
  });
  const delivery =
    c.req.header('idempotency-key') ?? (t.idempotencyHeader ? c.req.header(t.idempotencyHeader) : undefined);
  let id: string;
  try {
    [id] = (await d.enqueue.enqueue([
      {
        functionName: spec.name,
        payload: { source: 'webhook', request: event, enqueuedAt: Date.now(), sync: t.mode === 'sync' },
        dedupKey: delivery ? `webhook:${t.path}:${delivery}` : undefined,
      },
    ])) as [string];
  } catch (err) {
    throw new HttpError(
      503,
      'unavailable',
      `the queue is unavailable, nothing was accepted: ${(err as Error).message}`,
      {
        'Retry-After': '5',
      },
    );
  }
  if (t.mode === 'async') {
    c.header('Location', `/invocations/${id}`);
    return c.json({ id }, 202);
  }
  return httpResult(await d.wait(spec.name, id, spec.timeoutMs + 2000), id, spec.timeoutMs);
}

/**
 * Registers the manifest's webhook routes: declared methods accepted, other methods 405,
 * bodies over the limit 413 (counted as they stream, never buffered whole), bad signatures 401.
 * @example webhookRoutes(app, { functions, enqueue: producer, wait, secret: (n) => env[n], bodyLimit });
 */
export function webhookRoutes(app: Hono, d: WebhookDeps): void {
  for (const spec of d.functions) {
    for (const t of spec.triggers) {
      if (t.type !== 'webhook') continue;
      const limit = limitBody(d.bodyLimit);
      app.on(t.methods, t.path, limit, (c) => accept(c, spec, t, d));
      app.all(t.path, () => {
        throw new HttpError(405, 'method_not_allowed', `${t.path} accepts ${t.methods.join(', ')}`, {
          Allow: t.methods.join(', '),
        });
      });
    }
  }
}
