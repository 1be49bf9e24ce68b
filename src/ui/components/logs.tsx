import type { LogLine } from '../types.js';

/** The log lines an invocation wrote, as the CLI prints them. */
export function Logs(props: { lines: LogLine[] }) {
  if (props.lines.length === 0) return <p class="muted">no log lines</p>;
  return (
    <pre class="logs" data-testid="logs">
      {props.lines.map((l, i) => (
        <div key={i} class={`log-${l.level}`}>
          <span class="muted">{new Date(l.ts).toISOString().slice(11, 23)}</span>{' '}
          {l.level.toUpperCase().padEnd(5)} {l.msg}
        </div>
      ))}
    </pre>
  );
}
