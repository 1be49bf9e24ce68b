import type { HttpEvent } from '../../queue/payload.js';

const TEXT =
  /^(text\/|application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml|[\w.+-]*\+xml|javascript|graphql))/i;

/** True when a body of this content type is text (passed as a string, not base64). */
export function isTextual(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === '' || TEXT.test(contentType);
}

/** True when the content type declares JSON. */
export function isJson(contentType: string | undefined): boolean {
  return /^application\/(json|[\w.+-]*\+json)\s*(;|$)/i.test(contentType ?? '');
}

/**
 * The event a webhook handler receives (the shape of API Gateway's HTTP event): text bodies as
 * strings, anything else base64 with `isBase64Encoded`. Header names are lower-cased.
 */
export function httpEvent(req: {
  method: string;
  path: string;
  headers: Headers;
  query: Record<string, string>;
  body: Buffer;
}): HttpEvent {
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const textual = isTextual(headers['content-type']) && isUtf8(req.body);
  return {
    method: req.method,
    path: req.path,
    headers,
    query: req.query,
    body: textual ? req.body.toString('utf8') : req.body.toString('base64'),
    isBase64Encoded: !textual,
  };
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
