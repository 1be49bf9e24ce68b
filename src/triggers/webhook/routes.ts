import type { Context, Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { limitBody } from '../../api/body-limit.js';
import { accepted, HttpError } from '../../api/errors.js';
import { clientOf } from '../../http/client-address.js';
import type { FunctionSpec, WebhookTrigger } from '../../manifest/types.js';
import type { Enqueue } from '../../queue/enqueue.js';
import type { InvocationRecord } from '../../queue/records.js';
import { isJson, type PayloadFormat, type WebhookRequest } from './event.js';
import { apiGatewayV1Event } from './event-v1.js';
import { apiGatewayV2Event } from './event-v2.js';
import { webhookResponse } from './response.js';
import { verifySignature } from './signature.js';

export interface WebhookDeps {
  functions: FunctionSpec[];
  enqueue: Enqueue;
  /**
   * Waits for a finished invocation (sync mode); undefined when the time runs out. `fresh`: the
   * id was made for this request (no idempotency key), so it cannot have finished before.
   */
  wait: (fn: string, id: string, timeoutMs: number, fresh: boolean) => Promise<InvocationRecord | undefined>;
  /** Resolves a secret's environment variable name to its value. */
  secret: (name: string) => string | undefined;
  bodyLimit: number;
  nowS?: () => number;
}

/**
 * Turns a finished invocation into the response of a synchronous call: 504 with a Location when
 * no result came in time, 504 or 502 with the error when it failed. A webhook maps the returned
 * value as API Gateway does for its payload format (see response.ts: a value in the wrong shape
 * is a 502); the invoke API (`format` false) answers the result as JSON, as Lambda's Invoke does.
 */
export function httpResult(
  record: InvocationRecord | undefined,
  id: string,
  timeoutMs: number,
  format: PayloadFormat | false = '2.0',
): Response {
  const base = { 'X-Faas-Invocation-Id': id };
  if (!record) {
    return Response.json(
      { id, error: { kind: 'timeout', message: `no result within ${timeoutMs} ms` } },
      { status: 504, headers: { ...base, Location: `/invocations/${id}` } },
    );
  }
  if (record.status !== 'succeeded') {
    // The stack stays in the record: a webhook's caller is not told where the code failed.
    const error = record.error && { ...record.error, stack: undefined };
    return Response.json(
      { id, error },
      { status: record.error?.kind === 'timeout' ? 504 : 502, headers: base },
    );
  }
  if (format === false) return Response.json(record.result ?? null, { status: 200, headers: base });
  const mapped = webhookResponse(format, record.result);
  if (!mapped.ok) {
    return Response.json(
      {
        id,
        error: { kind: 'bad-response', message: `the handler's response is malformed: ${mapped.reason}` },
      },
      { status: 502, headers: base },
    );
  }
  const headers = new Headers(base);
  try {
    for (const [k, v] of mapped.headers) headers.append(k, v);
  } catch (err) {
    // What webhookResponse let through and HTTP still refuses: the handler's fault, not ours.
    return Response.json(
      {
        id,
        error: {
          kind: 'bad-response',
          message: `the handler's response is malformed: a header cannot be sent (${(err as Error).message})`,
        },
      },
      { status: 502, headers: base },
    );
  }
  return new Response(mapped.body, { status: mapped.status, headers });
}

/**
 * The query string as the client sent it (API Gateway's rawQueryString), from Node's request
 * line: the URL parser re-encodes some characters (a `"` becomes `%22`).
 */
function rawQueryOf(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const q = target.indexOf('?');
  if (q < 0) return '';
  const hash = target.indexOf('#', q);
  return target.slice(q + 1, hash < 0 ? undefined : hash);
}

/** The request as the event builders take it; raw header pairs when Node's request is at hand. */
function webhookRequest(c: Context, t: WebhookTrigger, body: Buffer): WebhookRequest {
  const url = new URL(c.req.url);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const raw = incoming?.rawHeaders;
  const headers: Array<[string, string]> = [];
  if (raw) for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string]);
  else c.req.raw.headers.forEach((v, k) => headers.push([k, v]));
  // The client's address (behind a trusted proxy, from X-Forwarded-For); none in memory (tests).
  const client = clientOf(c);
  const sourceIp = client === 'unknown' ? '' : client;
  return {
    method: c.req.method,
    path: url.pathname,
    rawQuery: rawQueryOf(incoming?.url) ?? url.search.slice(1),
    headers,
    body,
    route: t.path,
    sourceIp,
    protocol: `HTTP/${incoming?.httpVersion ?? '1.1'}`,
    requestId: randomUUID(),
    timeMs: Date.now(),
  };
}

async function accept(c: Context, spec: FunctionSpec, t: WebhookTrigger, d: WebhookDeps): Promise<Response> {
  const body = Buffer.from(await c.req.arrayBuffer());
  let replayKey: string | undefined;
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
    replayKey = check.replayKey;
  }
  if (isJson(c.req.header('content-type')) && body.length > 0) {
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'the body is declared as JSON but does not parse');
    }
  }
  const request = webhookRequest(c, t, body);
  const event = t.payload === '1.0' ? apiGatewayV1Event(request) : apiGatewayV2Event(request);
  const delivery =
    c.req.header('idempotency-key') ?? (t.idempotencyHeader ? c.req.header(t.idempotencyHeader) : undefined);
  // A timestamped signature seen again (the same body signed at the same second) is a replay of
  // that delivery, whatever delivery id it now carries (the signature does not cover one): it gets
  // that invocation and runs nothing again. Otherwise a delivery id, when sent, names it.
  const dedupKey = replayKey
    ? `webhook-signed:${t.path}:${replayKey}`
    : delivery
      ? `webhook:${t.path}:${delivery}`
      : undefined;
  const [id] = (await accepted(
    d.enqueue.enqueue([
      {
        functionName: spec.name,
        payload: { source: 'webhook', event, enqueuedAt: Date.now(), sync: t.mode === 'sync' },
        dedupKey,
      },
    ]),
  )) as [string];
  if (t.mode === 'async') {
    c.header('Location', `/invocations/${id}`);
    return c.json({ id }, 202);
  }
  return httpResult(
    await d.wait(spec.name, id, spec.timeoutMs + 2000, dedupKey === undefined),
    id,
    spec.timeoutMs,
    t.payload,
  );
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
      const notAllowed = () => {
        throw new HttpError(405, 'method_not_allowed', `${t.path} accepts ${t.methods.join(', ')}`, {
          Allow: t.methods.join(', '),
        });
      };
      app.on(t.methods, t.path, limit, (c) => {
        // HEAD is no method a trigger declares, but Hono routes it to GET handlers: a link
        // checker's HEAD would run the function, side effects and all.
        if (c.req.method === 'HEAD') return notAllowed();
        return accept(c, spec, t, d);
      });
      app.all(t.path, notAllowed);
    }
  }
}
