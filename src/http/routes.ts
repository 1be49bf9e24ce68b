/**
 * The platform's own HTTP routes, in one leaf that imports nothing: the API registers its routes
 * with these patterns, and manifest validation refuses a webhook path any of them covers, so a
 * webhook can never shadow a platform route (test/unit/routes.test.ts checks every registered
 * route is here). Patterns are Hono's: `:name` is one segment, a trailing `*` the rest.
 */

/** Each route the API serves, by what it is for. */
export const ROUTES = {
  healthz: '/healthz',
  metrics: '/metrics',
  functions: '/functions',
  function: '/functions/:name',
  invoke: '/functions/:name/invoke',
  /** Many async invocations of one function in one request (POST; GET lists them: console). */
  invocations: '/functions/:name/invocations',
  versions: '/functions/:name/versions',
  rollback: '/functions/:name/rollback',
  deployments: '/deployments',
  deploymentCode: '/deployments/code/:hash',
  invocation: '/invocations/:id',
  status: '/status',
  dlq: '/dlq',
  dlqEntry: '/dlq/:id',
  dlqRetryAll: '/dlq/retry',
  dlqRetry: '/dlq/:id/retry',
  /** Where MinIO posts bucket events. */
  minioEvents: '/minio/events',
} as const;

/**
 * Areas the platform owns as a whole: the admin token and the rate limit guard everything under
 * them, and the web console will live under /ui.
 */
export const AREAS = {
  functions: '/functions/*',
  invocations: '/invocations/*',
  dlq: '/dlq/*',
  deployments: '/deployments/*',
  ui: '/ui',
  uiPages: '/ui/*',
} as const;

/** Every pattern a webhook path must stay clear of. */
export const RESERVED_PATTERNS: readonly string[] = [...Object.values(ROUTES), ...Object.values(AREAS)];

/**
 * The reserved pattern that covers `path`, compared by segment and ignoring case (a proxy in
 * front may not keep it); undefined when the path is free.
 * @example reservedBy('/functions/x/invoke') // '/functions/:name/invoke'
 * @example reservedBy('/hooks/status') // undefined
 */
export function reservedBy(path: string): string | undefined {
  return RESERVED_PATTERNS.find((pattern) => covers(pattern, path));
}

/**
 * Whether a route pattern matches a literal path: `:x` one segment, a trailing `*` the rest.
 * Case is ignored unless `exactCase` (the router itself compares case).
 */
export function covers(pattern: string, path: string, exactCase = false): boolean {
  const fold = (s: string) => (exactCase ? s : s.toLowerCase());
  const want = segments(pattern);
  const have = segments(fold(path));
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w === '*' && i === want.length - 1) return true;
    if (i >= have.length) return false;
    if (!w.startsWith(':') && fold(w) !== have[i]) return false;
  }
  return have.length === want.length;
}

/**
 * The methods the routes answer on `path`, for a request no route took: a 405's `Allow`, or none
 * (a 404). Middleware (registered for every method) answers nothing of its own; a GET route
 * answers HEAD too, as the router serves it.
 * @example allowedMethods([{ method: 'POST', path: '/functions/:name/invoke' }], '/functions/x/invoke') // ['POST']
 */
export function allowedMethods(
  routes: ReadonlyArray<{ method: string; path: string }>,
  path: string,
): string[] {
  // The router matches a path as written: an empty segment (`//`, a trailing `/`) matches none.
  if (path !== '/' && (path.endsWith('/') || path.includes('//'))) return [];
  const found = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL' || !covers(r.path, path, true)) continue;
    found.add(r.method);
    if (r.method === 'GET') found.add('HEAD');
  }
  return [...found];
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}
