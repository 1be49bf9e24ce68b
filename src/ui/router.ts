import { useEffect, useState } from 'preact/hooks';

/** A page the console can show, parsed from its address. */
export type Route =
  | { page: 'overview' }
  | { page: 'function'; name: string }
  | { page: 'invocation'; id: string }
  | { page: 'dlq' }
  | { page: 'missing'; path: string };

/** Every page has its own address under /ui: bookmarkable, shareable, reloadable. */
export function parseRoute(path: string): Route {
  const p = path.replace(/\/+$/, '');
  if (p === '/ui' || p === '') return { page: 'overview' };
  if (p === '/ui/dlq') return { page: 'dlq' };
  let m = /^\/ui\/functions\/([^/]+)$/.exec(p);
  if (m) return { page: 'function', name: decodeURIComponent(m[1] as string) };
  m = /^\/ui\/invocations\/([^/]+)$/.exec(p);
  if (m) return { page: 'invocation', id: decodeURIComponent(m[1] as string) };
  return { page: 'missing', path };
}

export const paths = {
  overview: () => '/ui',
  fn: (name: string) => `/ui/functions/${encodeURIComponent(name)}`,
  invocation: (id: string) => `/ui/invocations/${encodeURIComponent(id)}`,
  dlq: () => '/ui/dlq',
};

const NAVIGATE = 'faas:navigate';

/** Goes to a console address without a reload (the history API). */
export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE));
}

/** The current address, updated on links, back and forward. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const read = () => ({ path: location.pathname, search: new URLSearchParams(location.search) });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return loc;
}

/** Replaces the query string (filters) without adding a history entry per keystroke. */
export function setQuery(params: Record<string, string | undefined>): void {
  const s = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params))
    if (v) s.set(k, v);
    else s.delete(k);
  const text = s.toString();
  history.replaceState(null, '', location.pathname + (text ? `?${text}` : ''));
  window.dispatchEvent(new Event(NAVIGATE));
}
