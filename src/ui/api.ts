import type {
  DeadLetter,
  FunctionInfo,
  Health,
  IndexEntry,
  Invocation,
  Stats,
  StatsReport,
  StatusReport,
} from './types.js';

const TOKEN_KEY = 'faas.token';

/** Raised for a 401: the console shows the login form. */
export class Unauthorized extends Error {
  override name = 'Unauthorized';
}

/** The token lives for the browser tab's session only (sessionStorage), never in a URL. */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const listeners = new Set<() => void>();
/** Called when a request is refused for want of a (valid) token. */
export function onUnauthorized(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function authHeaders(): Record<string, string> {
  const t = token.get();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** One request to the platform's API; errors carry the API's own message. */
export async function request(method: string, path: string, body?: string): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body,
  });
  if (res.status === 401) {
    for (const l of listeners) l();
    throw new Unauthorized('a valid token is required');
  }
  return res;
}

async function json<T>(method: string, path: string, body?: string): Promise<T> {
  const res = await request(method, path, body);
  const data = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!res.ok) throw new Error(data.error?.message ?? `${method} ${path} answered ${res.status}`);
  return data;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
const enc = encodeURIComponent;

/**
 * The function list changes only with a deploy: one answer serves every page for a few seconds
 * (the access check asks for it first, the page that follows reuses it).
 */
let functionsCache: { at: number; list: Promise<FunctionInfo[]> } | undefined;
const FUNCTIONS_FRESH_MS = 10_000;

/** The API routes the console uses: the same the CLI uses, plus the console's own. */
export const api = {
  functions: (): Promise<FunctionInfo[]> => {
    if (!functionsCache || Date.now() - functionsCache.at > FUNCTIONS_FRESH_MS) {
      const list = json<FunctionInfo[]>('GET', '/functions');
      functionsCache = { at: Date.now(), list };
      list.catch(() => (functionsCache = undefined));
    }
    return functionsCache.list;
  },
  status: () => json<StatusReport>('GET', '/status'),
  stats: (minutes: number) => json<StatsReport>('GET', `/invocations/stats${q({ minutes })}`),
  fnStats: (fn: string, minutes: number) =>
    json<Stats & { windowMs: number }>('GET', `/functions/${enc(fn)}/stats${q({ minutes })}`),
  /** /healthz answers 503 with the same body when a service is down. */
  health: async (): Promise<Health> => (await fetch('/healthz')).json() as Promise<Health>,
  invocations: (fn: string, filter: { status?: string; kind?: string; limit?: number }) =>
    json<IndexEntry[]>('GET', `/functions/${enc(fn)}/invocations${q(filter)}`),
  invocation: (id: string) => json<Invocation>('GET', `/invocations/${enc(id)}`),
  deadLetters: (fn?: string) => json<DeadLetter[]>('GET', `/dlq${q({ function: fn })}`),
  deadLetter: (id: string) => json<DeadLetter>('GET', `/dlq/${enc(id)}`),
  retry: (id: string) => json<{ retried: string[] }>('POST', `/dlq/${enc(id)}/retry`),
  retryAll: (fn?: string) => json<{ retried: string[] }>('POST', `/dlq/retry${q({ function: fn })}`),
  /** Sync invoke: the function's answer whatever its status (502 and 504 carry a body too). */
  invoke: async (fn: string, body: string): Promise<{ status: number; id?: string; text: string }> => {
    const res = await request('POST', `/functions/${enc(fn)}/invoke`, body);
    return {
      status: res.status,
      id: res.headers.get('x-faas-invocation-id') ?? undefined,
      text: await res.text(),
    };
  },
};
