import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { FilterSelect } from '../components/filter-select.js';
import { Link } from '../components/link.js';
import { Logs } from '../components/logs.js';
import { Problem } from '../components/problem.js';
import { json, when } from '../format.js';
import { paths, setQuery, useLocation } from '../router.js';
import type { DeadLetter } from '../types.js';
import { useData } from '../use-data.js';

function Detail(props: { letter: DeadLetter }) {
  const d = props.letter;
  return (
    <div class="detail" data-testid="dlq-detail">
      <h3>Event</h3>
      <pre>{json(d.event)}</pre>
      <h3>Attempts</h3>
      <ol>
        {d.history.map((h) => (
          <li key={h.attempt}>
            attempt {h.attempt}, {when(h.finishedAt)}: {h.error?.kind}: {h.error?.message}
          </li>
        ))}
      </ol>
      <h3>Logs</h3>
      <Logs lines={d.logs} />
    </div>
  );
}

/** Invocations that failed every attempt: filter, look, re-drive one or all. */
export function DeadLettersPage() {
  const { search } = useLocation();
  const fn = search.get('function') ?? '';
  const kind = search.get('kind') ?? '';
  const functions = useData(() => api.functions(), []);
  const letters = useData(() => api.deadLetters(fn || undefined), [fn]);
  const [open, setOpen] = useState<string>();
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const rows = (letters.data ?? []).filter((d) => !kind || d.error?.kind === kind);
  const kinds = [...new Set((letters.data ?? []).map((d) => d.error?.kind).filter(Boolean))] as string[];

  const redrive = async (what: () => Promise<{ retried: string[] }>) => {
    setError(undefined);
    try {
      const { retried } = await what();
      setNote(`re-driven: ${retried.length}`);
      letters.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <h1>Dead letters</h1>
      <div class="filters">
        <FilterSelect
          label="function"
          value={fn}
          options={functions.data?.map((f) => f.name) ?? []}
          onPick={(v) => setQuery({ function: v })}
        />
        <FilterSelect label="error kind" value={kind} options={kinds} onPick={(v) => setQuery({ kind: v })} />
        <button
          type="button"
          onClick={() => redrive(() => api.retryAll(fn || undefined))}
          data-testid="retry-all"
        >
          Re-drive all{fn ? ` of ${fn}` : ''}
        </button>
      </div>
      {note && (
        <p role="status" data-testid="dlq-note">
          {note}
        </p>
      )}
      <Problem error={error ?? letters.error} />
      {letters.data && rows.length === 0 && <p data-testid="dlq-empty">no dead letters</p>}
      {rows.length > 0 && (
        <table data-testid="dlq">
          <thead>
            <tr>
              <th scope="col">invocation</th>
              <th scope="col">function</th>
              <th scope="col">failed</th>
              <th scope="col">attempts</th>
              <th scope="col">error</th>
              <th scope="col">actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => [
              <tr key={d.id} data-id={d.id}>
                <td>
                  <Link href={paths.invocation(d.id)} class="mono">
                    {d.id}
                  </Link>
                </td>
                <td>
                  <Link href={paths.fn(d.function)}>{d.function}</Link>
                </td>
                <td>{when(d.failedAt)}</td>
                <td class="num">{d.attempts}</td>
                <td>
                  {d.error?.kind}: {d.error?.message}
                </td>
                <td class="actions">
                  <button
                    type="button"
                    aria-expanded={open === d.id}
                    onClick={() => setOpen(open === d.id ? undefined : d.id)}
                  >
                    {open === d.id ? 'Hide' : 'Details'}
                  </button>
                  <button type="button" data-testid="retry" onClick={() => redrive(() => api.retry(d.id))}>
                    Re-drive
                  </button>
                </td>
              </tr>,
              open === d.id && (
                <tr key={`${d.id}-detail`}>
                  <td colSpan={6}>
                    <Detail letter={d} />
                  </td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
      )}
    </>
  );
}
