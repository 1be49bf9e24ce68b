import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpError } from './errors.js';

/**
 * Refuses bodies over `maxSize` with 413, never buffering one whole. A declared Content-Length is
 * checked from the header alone (cheap: Hono's own limiter builds a web stream per request);
 * only a chunked body is counted as it streams.
 * @example app.post('/x', limitBody(1024 * 1024), handler);
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () => new HttpError(413, 'too_large', `the body is over ${maxSize} bytes`);
  const streaming = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxSize) throw tooLarge();
      return next();
    }
    return streaming(c, next);
  };
}
