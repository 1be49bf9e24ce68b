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
 * bound to loopback (see config) and open. Given several, any one of them is accepted; each is
 * compared, so the time taken does not say which one came close.
 * @example app.use('/functions/*', bearerAuth(config.FAAS_API_TOKEN));
 * @example app.get('/metrics', bearerAuth([config.FAAS_API_TOKEN, config.FAAS_METRICS_TOKEN]), h);
 */
export function bearerAuth(token: string | undefined | ReadonlyArray<string | undefined>): MiddlewareHandler {
  const tokens = (Array.isArray(token) ? token : [token]).filter((t): t is string => !!t);
  return async (c, next) => {
    if (tokens.length > 0) {
      const header = c.req.header('authorization') ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      const presented = m?.[1];
      const matches = presented === undefined ? [] : tokens.map((t) => safeEqual(presented, t));
      if (!matches.includes(true)) {
        throw new HttpError(401, 'unauthorized', 'a valid bearer token is required', {
          'WWW-Authenticate': 'Bearer realm="faas"',
        });
      }
    }
    await next();
  };
}
