/**
 * What the webhook route knows of a request, and the helpers both API Gateway payload formats
 * share. Pure: the route reads the request, these functions only reshape it.
 */

/** API Gateway's payload format versions; a webhook trigger's `payload` field picks one. */
export type PayloadFormat = '1.0' | '2.0';

/** One HTTP request as the webhook route received it. */
export interface WebhookRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The query string as sent, without `?`; empty when there is none. */
  rawQuery: string;
  /** Header fields in arrival order, repeats kept apart (Node's rawHeaders, paired). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** The webhook trigger's path: API Gateway's route or resource. */
  route: string;
  sourceIp: string;
  /** `HTTP/1.1`, `HTTP/2.0`. */
  protocol: string;
  requestId: string;
  /** When the request arrived (epoch ms). */
  timeMs: number;
}

/** The account id in every ARN and request context the platform makes up. */
export const ACCOUNT_ID = '000000000000';
/** The API id in request contexts: there is one API, the platform's. */
export const API_ID = 'faas';

const TEXT =
  /^(text\/|application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml|[\w.+-]*\+xml|javascript|ecmascript|graphql|yaml|x-yaml|x-ndjson)\s*(;|$))/i;

/**
 * True when a body of this content type is text, passed as a string rather than base64: `text/*`,
 * JSON, XML, JavaScript, YAML, form data and GraphQL (with structured `+json`/`+xml` suffixes),
 * and a body with no content type at all. Anything else (images, octet-stream, multipart, which
 * may carry files) is base64 with `isBase64Encoded: true`, as function URLs and HTTP APIs send it.
 */
export function isTextual(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.trim() === '' || TEXT.test(contentType.trim());
}

/** True when the content type declares JSON. */
export function isJson(contentType: string | undefined): boolean {
  return /^application\/(json|[\w.+-]*\+json)\s*(;|$)/i.test(contentType ?? '');
}

/** The body as the event carries it: text when declared (and valid) as text, else base64. */
export function eventBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string; isBase64Encoded: boolean } {
  const text = isTextual(contentType) && isUtf8(body);
  return { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text };
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Header values by lower-cased name, repeats in arrival order. */
export function groupHeaders(headers: Array<[string, string]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Decoded query parameters by name, repeats in order (form decoding: `+` is a space). */
export function groupQuery(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQuery)) out.set(name, [...(out.get(name) ?? []), value]);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A time in the common log format API Gateway uses for `requestContext.time`.
 * @example clfTime(Date.UTC(2020, 2, 12, 19, 3, 58)) // '12/Mar/2020:19:03:58 +0000'
 */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/** The Host header's first label, as API Gateway's `domainPrefix` (`id` of `id.execute-api…`). */
export function domainPrefix(domainName: string): string {
  return domainName.replace(/:\d+$/, '').split('.')[0] ?? '';
}
