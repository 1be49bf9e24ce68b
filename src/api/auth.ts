import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.js';

/**
 * Compares two secrets in time independent of where they differ (hashing first makes the
 * lengths equal, so the length is not revealed either).
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Requires `Authorization: Bearer <token>` when a token is configured; without one, the API is
 * bound to loopback (see config) and open.
 * @example app.use('/functions/*', bearerAuth(config.FAAS_API_TOKEN));
 */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token) {
      const header = c.req.header('authorization') ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m || !safeEqual(m[1] as string, token)) {
        throw new HttpError(401, 'unauthorized', 'a valid bearer token is required', {
          'WWW-Authenticate': 'Bearer realm="faas"',
        });
      }
    }
    await next();
  };
}
