import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { FilterSelect } from '../components/filter-select.js';
import { InvocationsTable } from '../components/invocations-table.js';
import { InvokeForm } from '../components/invoke-form.js';
import { LiveChart } from '../components/live-chart.js';
import { Problem } from '../components/problem.js';
import { ms } from '../format.js';
import { follow } from '../live.js';
import { setQuery, useLocation } from '../router.js';
import type { IndexEntry, LiveSample } from '../types.js';
import { useData } from '../use-data.js';

const KINDS = [
  'handler',
  'timeout',
  'permanent',
  'oom',
  'exit',
  'container-lost',
  'init',
  'no-capacity',
  'result-too-large',
];
const SHOWN = 50;

/** Newest first, without the ids already listed (a live sample can repeat one just loaded). */
function merge(fresh: IndexEntry[], rows: IndexEntry[]): IndexEntry[] {
  const ids = new Set(fresh.map((r) => r.id));
  return [...fresh, ...rows.filter((r) => !ids.has(r.id))].slice(0, SHOWN);
}

/** One function: a live chart of its backlog and containers, recent invocations, an invoke form. */
export function FunctionPage(props: { name: string }) {
  const { name } = props;
  const { search } = useLocation();
  const status = search.get('status') ?? '';
  const kind = search.get('kind') ?? '';
  const info = useData(async () => (await api.functions()).find((f) => f.name === name), [name]);
  const stats = useData(() => api.fnStats(name, 5), [name], 5000);
  const list = useData(() => api.invocations(name, { status, kind, limit: SHOWN }), [name, status, kind]);
  const [rows, setRows] = useState<IndexEntry[]>([]);
  const [sample, setSample] = useState<LiveSample>();

  useEffect(() => setRows(list.data ?? []), [list.data]);
  useEffect(
    () =>
      follow(`/functions/${encodeURIComponent(name)}/live`, (event, data) => {
        if (event !== 'sample') return;
        const s = JSON.parse(data) as LiveSample;
        setSample(s);
        const fresh = s.finished.filter(
          (e) => (!status || e.status === status) && (!kind || e.kind === kind),
        );
        if (fresh.length) setRows((r) => merge(fresh, r));
      }),
    [name, status, kind],
  );

  const fn = info.data;
  const st = stats.data;
  return (
    <>
      <h1>
        <span class="muted">function</span> {name}
      </h1>
      <Problem error={info.error} />
      {info.data === undefined && !info.loading && <p class="problem">no function named {name}</p>}
      {fn && (
        <p class="summary">
          {fn.handler} · {fn.runtime} · timeout {ms(fn.timeoutMs)} · concurrency {fn.concurrency} · scale{' '}
          {fn.scale.min}–{fn.scale.max}
          {fn.version !== undefined && ` · version ${fn.version}`}
        </p>
      )}
      {st && (
        <p class="summary" data-testid="stats">
          last 5 min: {st.count} invocations, {st.failures} failed · p50 {ms(st.p50)} · p99 {ms(st.p99)}
        </p>
      )}
      <section aria-labelledby="live-h">
        <h2 id="live-h">Live</h2>
        <LiveChart samples={sample} />
      </section>
      <section aria-labelledby="inv-h">
        <h2 id="inv-h">Recent invocations</h2>
        <div class="filters">
          <FilterSelect
            label="status"
            value={status}
            options={['succeeded', 'failed']}
            onPick={(v) => setQuery({ status: v })}
          />
          <FilterSelect
            label="error kind"
            value={kind}
            options={KINDS}
            onPick={(v) => setQuery({ kind: v })}
          />
        </div>
        <Problem error={list.error} />
        {list.data && <InvocationsTable rows={rows} />}
        {list.data && rows.length === 0 && <p class="muted">none yet</p>}
      </section>
      <section aria-labelledby="invoke-h">
        <h2 id="invoke-h">Invoke</h2>
        <InvokeForm fn={name} />
      </section>
    </>
  );
}
