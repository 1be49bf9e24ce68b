import { ms } from '../format.js';
import type { Timings } from '../types.js';

interface Phase {
  name: string;
  what: string;
  from?: number;
  to?: number;
}

/**
 * Where an invocation's time went, as bars on one time axis: queued (accepted → a worker took
 * it), lease (waiting for a container slot, a cold start included), run (the handler), record
 * (writing the outcome until the job completed).
 */
export function phases(t: Timings): Phase[] {
  const runEnd =
    t.startedAt !== undefined && t.durationMs !== undefined ? t.startedAt + t.durationMs : undefined;
  return [
    {
      name: 'queued',
      what: 'accepted until a worker took it',
      from: t.enqueuedAt,
      to: t.pickedAt ?? t.startedAt,
    },
    { name: 'lease', what: 'waiting for a container slot', from: t.pickedAt, to: t.startedAt },
    { name: 'run', what: 'the handler ran', from: t.startedAt, to: runEnd },
    {
      name: 'record',
      what: 'outcome recorded, job completed',
      from: runEnd,
      to: t.completedAt ?? t.finishedAt,
    },
  ];
}

export function Waterfall(props: { timings: Timings }) {
  const list = phases(props.timings).filter((p) => p.from !== undefined && p.to !== undefined);
  if (list.length === 0) return <p class="muted">not started yet</p>;
  const start = Math.min(...list.map((p) => p.from as number));
  const end = Math.max(...list.map((p) => p.to as number));
  const span = Math.max(1, end - start);
  return (
    <table class="waterfall" data-testid="waterfall">
      <caption class="sr-only">Timing of each phase</caption>
      <tbody>
        {list.map((p) => {
          const d = Math.max(0, (p.to as number) - (p.from as number));
          return (
            <tr key={p.name} data-phase={p.name} data-ms={d}>
              <th scope="row" title={p.what}>
                {p.name}
              </th>
              <td class="bar-cell">
                <span
                  class={`bar bar-${p.name}`}
                  style={{
                    marginLeft: `${(((p.from as number) - start) / span) * 100}%`,
                    width: `${Math.max(0.5, (d / span) * 100)}%`,
                  }}
                />
              </td>
              <td class="num">{ms(d)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
