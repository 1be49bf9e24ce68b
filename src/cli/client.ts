import { UserError } from '../util/user-error.js';

/** What to do about an answer the platform refused, by its status. */
const FIX_BY_STATUS: Record<number, string> = {
  400: 'fix the request',
  404: 'check the name or id (`faas ls` lists the functions)',
  413: 'send less, or raise FAAS_BODY_LIMIT on the platform',
  429: 'slow down, or raise FAAS_RATE_LIMIT on the platform',
  503: 'the platform cannot reach Redis: start it with `npm run services:up`, then try again',
};

/**
 * The CLI's HTTP client for a running platform: `FAAS_URL` (default http://127.0.0.1:$FAAS_PORT)
 * and `FAAS_API_TOKEN`. Every failure is a {@link UserError} that says what to do.
 */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  /** @throws UserError when FAAS_URL or FAAS_PORT cannot make a URL. */
  static fromEnv(env: Record<string, string | undefined>): ApiClient {
    const url = env.FAAS_URL || undefined;
    const port = env.FAAS_PORT || '8080';
    if (!url && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
      throw new UserError(`FAAS_PORT="${port}" is not a port number`, 'set it like 8080, or set FAAS_URL');
    }
    const base = url ?? `http://127.0.0.1:${port}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(base);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
      throw new UserError(`FAAS_URL="${base}" is not an http(s) URL`, 'set it like http://127.0.0.1:8080');
    }
    return new ApiClient(base.replace(/\/$/, ''), env.FAAS_API_TOKEN || undefined);
  }

  async request(
    method: string,
    path: string,
    body?: string | Uint8Array,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body });
    } catch {
      throw new UserError(
        `no platform answers at ${this.base}`,
        'start it with `faas up` (or set FAAS_URL to where it runs)',
      );
    }
    if (res.status === 401) {
      throw this.token
        ? new UserError('the platform refused the token', 'set FAAS_API_TOKEN to its token')
        : new UserError('the platform wants a token', 'set FAAS_API_TOKEN');
    }
    return res;
  }

  async json<T>(
    method: string,
    path: string,
    body?: string | Uint8Array,
    extra: Record<string, string> = {},
  ): Promise<T> {
    const res = await this.request(method, path, body, extra);
    const data = (await res.json().catch(() => ({}))) as T & { error?: { message?: string; fix?: unknown } };
    if (!res.ok && res.status !== 502 && res.status !== 504) throw refusal(method, path, res.status, data);
    return data;
  }
}

/** The error for an answer the platform refused, with its message and what to do. */
export function refusal(
  method: string,
  path: string,
  status: number,
  data: { error?: { message?: string; fix?: unknown } },
): UserError {
  const what = data.error?.message ?? `${method} ${path} answered ${status}`;
  // The platform's own word on what to do comes first ('' when its message already says it).
  const own = typeof data.error?.fix === 'string' ? data.error.fix || undefined : undefined;
  const fix =
    typeof data.error?.fix === 'string'
      ? own
      : (FIX_BY_STATUS[status] ?? (status >= 500 ? 'the platform failed: see its log' : undefined));
  return new UserError(what, fix);
}
