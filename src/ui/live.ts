import { readEvents } from '../util/sse.js';
import { authHeaders } from './api.js';

/**
 * Reads a server-sent event stream with fetch, so the bearer token goes in a header
 * (EventSource cannot send one, and a token in the URL would land in logs). Reconnects after a
 * second when the stream ends or fails, until `stop` is called.
 * @example const stop = follow('/functions/x/live', (e, data) => ...);
 */
export function follow(path: string, onEvent: (event: string, data: string) => void): () => void {
  const abort = new AbortController();
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(path, { headers: authHeaders(), signal: abort.signal });
        if (res.ok && res.body) await readEvents(res.body, onEvent);
      } catch {
        // Aborted, or the connection dropped: retry below unless stopped.
      }
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => abort.abort();
}
