/**
 * How a handler's return value becomes the HTTP response of a synchronous webhook, following API
 * Gateway's rules for each payload format. Pure.
 *
 * - 2.0 (HTTP APIs, function URLs): an object with `statusCode` is a full response (`headers`,
 *   `cookies` as Set-Cookie headers, `body`, `isBase64Encoded`). Anything else is inferred as
 *   status 200, `content-type: application/json`, and the returned value as the body: a string
 *   as it is, any other value JSON-encoded (AWS's "Lambda function response for format 2.0").
 * - 1.0 (REST APIs): only a full response (`statusCode`, `headers`, `multiValueHeaders`, `body`,
 *   `isBase64Encoded`) is accepted; no inference.
 * A response in the wrong shape (no `statusCode` in 1.0, a status that is no HTTP status, a
 * body that is not a string, a header HTTP cannot carry) is a 502, as API Gateway answers it ("Handling Lambda errors with an
 * API Gateway API").
 */
import type { PayloadFormat } from './event.js';

/** The HTTP response to send, or why the handler's value is not one. */
export type MappedResponse =
  | { ok: true; status: number; headers: Array<[string, string]>; body: Uint8Array | null }
  | { ok: false; reason: string };

type Fields = Record<string, unknown>;

/** Statuses whose responses have no body, whatever the handler returned. */
const NO_BODY = new Set([204, 205, 304]);

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (reason: string): MappedResponse => ({ ok: false, reason });
const headerValue = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A header name as HTTP defines it (a token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header value may hold: no line break, NUL or other control character but tab. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers the platform's HTTP server sets itself, as API Gateway does: the message's framing and
 * the connection's hop-by-hop headers (a handler's Content-Length or Transfer-Encoding would
 * frame the response wrongly and corrupt the next one on a kept-alive connection), and the
 * invocation id. A handler's value for one of them is dropped.
 */
const RESERVED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'x-faas-invocation-id',
]);

/** Why a header from the handler cannot be sent, or undefined when it can. */
function headerProblem(name: string, value: string): string | undefined {
  if (!HEADER_NAME.test(name))
    return `header name ${JSON.stringify(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  if (!HEADER_VALUE.test(value))
    return `header ${name} has a line break or control character in its value, which HTTP does not allow`;
  return undefined;
}

/**
 * Maps a handler's return value to an HTTP response under a payload format's rules.
 * @example webhookResponse('2.0', { hello: 1 }) // { ok: true, status: 200, headers: [['content-type', 'application/json']], body: '{"hello":1}' bytes }
 */
export function webhookResponse(format: PayloadFormat, value: unknown): MappedResponse {
  if (isObject(value) && 'statusCode' in value) return fullResponse(format, value);
  if (format === '1.0') return bad('a payload 1.0 response needs statusCode (and a string body)');
  const body = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return { ok: true, status: 200, headers: [['content-type', 'application/json']], body: utf8(body) };
}

function fullResponse(format: PayloadFormat, r: Fields): MappedResponse {
  const status = r.statusCode;
  // 1xx are not final responses: no handler can answer with one.
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
    return bad(
      `statusCode must be an HTTP status (an integer from 200 to 599), not ${JSON.stringify(status)}`,
    );
  const headers: Array<[string, string]> = [];
  if (r.headers !== undefined && r.headers !== null) {
    if (!isObject(r.headers)) return bad('headers must be an object of header names and values');
    for (const [k, v] of Object.entries(r.headers)) {
      if (!headerValue(v)) return bad(`header ${k} must be a string, number or boolean`);
      headers.push([k, String(v)]);
    }
  }
  const multi = format === '1.0' ? multiValueHeaders(r.multiValueHeaders) : [];
  if (!Array.isArray(multi)) return multi;
  // Where both name a header, multiValueHeaders wins (API Gateway merges them that way).
  const multiNames = new Set(multi.map(([k]) => k.toLowerCase()));
  const merged = [...headers.filter(([k]) => !multiNames.has(k.toLowerCase())), ...multi];
  if (format === '2.0' && r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string'))
      return bad('cookies must be an array of strings');
    for (const c of r.cookies as string[]) merged.push(['set-cookie', c]);
  }
  for (const [k, v] of merged) {
    const problem = headerProblem(k, v);
    if (problem) return bad(problem);
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string')
    return bad('body must be a string (JSON.stringify objects; base64 with isBase64Encoded for bytes)');
  const body =
    typeof r.body === 'string' && !NO_BODY.has(status)
      ? r.isBase64Encoded === true
        ? Buffer.from(r.body, 'base64')
        : utf8(r.body)
      : null;
  return { ok: true, status, headers: merged.filter(([k]) => !RESERVED.has(k.toLowerCase())), body };
}

function multiValueHeaders(value: unknown): Array<[string, string]> | MappedResponse {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) return bad('multiValueHeaders must be an object of header names and arrays');
  const out: Array<[string, string]> = [];
  for (const [k, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every(headerValue))
      return bad(`multiValueHeaders.${k} must be an array of strings`);
    for (const v of list) out.push([k, String(v)]);
  }
  return out;
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
