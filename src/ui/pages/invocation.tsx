import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, Start } from '../components/badge.js';
import { Link } from '../components/link.js';
import { Logs } from '../components/logs.js';
import { Problem } from '../components/problem.js';
import { Waterfall } from '../components/waterfall.js';
import { json, ms, when } from '../format.js';
import { paths } from '../router.js';
import { useData } from '../use-data.js';

/** One invocation: its event, result or error, logs, attempts and where its time went. */
export function InvocationPage(props: { id: string }) {
  const inv = useData(() => api.invocation(props.id), [props.id]);
  const d = inv.data;
  const done = d?.status === 'succeeded' || d?.status === 'failed';
  // Still queued or running: look again each second until it ends.
  useEffect(() => {
    if (!d || done) return;
    const timer = setTimeout(inv.reload, 1000);
    return () => clearTimeout(timer);
  }, [d, done]);

  return (
    <>
      <h1>
        <span class="muted">invocation</span> <span class="mono">{props.id}</span>
      </h1>
      <Problem error={inv.error} />
      {d && (
        <>
          <dl class="facts" data-testid="invocation">
            <dt>function</dt>
            <dd>
              <Link href={paths.fn(d.function)}>{d.function}</Link>
              {d.version !== undefined && ` (version ${d.version})`}
            </dd>
            <dt>status</dt>
            <dd>
              <Badge status={d.status} />
            </dd>
            <dt>attempts</dt>
            <dd>{d.attempts}</dd>
            <dt>start</dt>
            <dd>
              <Start cold={d.cold} />
              {d.prewarmed ? ' (pre-warmed container)' : ''}
            </dd>
            <dt>accepted</dt>
            <dd>{when(d.timings.enqueuedAt)}</dd>
            <dt>duration</dt>
            <dd>{ms(d.timings.durationMs)}</dd>
            {d.version !== null && (
              <>
                <dt>version</dt>
                <dd>v{d.version}</dd>
              </>
            )}
            {d.container && (
              <>
                <dt>container</dt>
                <dd class="mono">{d.container}</dd>
              </>
            )}
          </dl>
          <section aria-labelledby="timing-h">
            <h2 id="timing-h">Timing</h2>
            <Waterfall timings={d.timings} />
          </section>
          {d.error ? (
            <section aria-labelledby="error-h" data-testid="error">
              <h2 id="error-h">Error: {d.error.kind}</h2>
              <pre>{`${d.error.name ? `${d.error.name}: ` : ''}${d.error.message}`}</pre>
            </section>
          ) : (
            done && (
              <section aria-labelledby="result-h">
                <h2 id="result-h">Result</h2>
                <pre data-testid="result">{json(d.result)}</pre>
              </section>
            )
          )}
          <section aria-labelledby="logs-h">
            <h2 id="logs-h">Logs</h2>
            <Logs lines={d.logs} />
          </section>
          <section aria-labelledby="event-h">
            <h2 id="event-h">Event</h2>
            <pre data-testid="event">{json(d.event)}</pre>
          </section>
          <section aria-labelledby="history-h">
            <h2 id="history-h">Attempts</h2>
            <ol class="history" data-testid="history">
              {d.history.map((h) => (
                <li key={h.attempt}>
                  attempt {h.attempt} failed {when(h.finishedAt)}: {h.error?.kind}: {h.error?.message}
                </li>
              ))}
              {done && (
                <li>
                  attempt {d.attempts} {d.status} {when(d.timings.finishedAt)}
                  {d.error ? `: ${d.error.kind}: ${d.error.message}` : ''}
                </li>
              )}
            </ol>
          </section>
        </>
      )}
    </>
  );
}
