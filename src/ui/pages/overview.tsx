import { api } from '../api.js';
import { HealthPanel } from '../components/health.js';
import { Link } from '../components/link.js';
import { Problem } from '../components/problem.js';
import { ms } from '../format.js';
import { paths } from '../router.js';
import type { FunctionInfo, PoolCounts, Stats, StatusReport, Trigger } from '../types.js';
import { useData } from '../use-data.js';

/** Stats cover this many minutes. */
const MINUTES = 5;

function triggerText(t: Trigger): string {
  if (t.type === 'bucket')
    return `bucket ${t.bucket ?? ''}${t.prefix ? `/${t.prefix}` : ''}${t.suffix ? ` *${t.suffix}` : ''}`;
  if (t.type === 'webhook')
    return `webhook ${t.methods?.join('|') ?? ''} ${t.path ?? ''} (${t.mode ?? 'async'})`;
  return t.type;
}

function containers(c: PoolCounts | undefined): string {
  if (!c) return '–';
  const parts = (['starting', 'busy', 'idle', 'draining'] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`);
  return parts.length ? parts.join(', ') : '0';
}

function Row(props: { fn: FunctionInfo; status?: StatusReport['functions'][0]; stats?: Stats }) {
  const { fn, status, stats } = props;
  const b = status?.backlog;
  return (
    <tr data-fn={fn.name}>
      <th scope="row">
        <Link href={paths.fn(fn.name)}>{fn.name}</Link>
      </th>
      {/* Deploys will give functions versions; until then there is none to show. */}
      <td>{fn.version ?? '–'}</td>
      <td>{fn.triggers.map(triggerText).join(', ') || 'invoke only'}</td>
      <td
        class="num"
        title={b ? `${b.waiting} waiting, ${b.delayed} delayed, ${b.active} running` : undefined}
      >
        {b ? b.waiting + b.delayed : '–'}
      </td>
      <td class="num">{b?.active ?? '–'}</td>
      <td>{containers(status?.containers)}</td>
      <td class="num">{stats?.count ?? 0}</td>
      <td class={`num${stats?.failures ? ' failing' : ''}`}>{stats?.failures ?? 0}</td>
      <td class="num">{ms(stats?.p50)}</td>
      <td class="num">{ms(stats?.p99)}</td>
    </tr>
  );
}

/** Every function with its triggers, backlog, containers and recent invocations; the platform's health. */
export function Overview() {
  const functions = useData(() => api.functions(), []);
  // Backlog, containers and stats move; the function list does not (until deploys exist).
  // Asked for apart: /status reads every queue, and the rows need not wait for it.
  const live = useData(() => api.status(), [], 2000);
  const recent = useData(() => api.stats(MINUTES), [], 2000);
  const status = live.data;
  const stats = recent.data;
  const byName = new Map(status?.functions.map((f) => [f.name, f]));
  return (
    <>
      <h1>Overview</h1>
      <p class="summary" data-testid="platform">
        {status
          ? `${status.instances} platform instance${status.instances === 1 ? '' : 's'} · ${status.warm} pre-warmed container${status.warm === 1 ? '' : 's'} · ${functions.data?.length ?? 0} functions`
          : 'loading…'}
      </p>
      <HealthPanel />
      <section aria-labelledby="fns-h">
        <h2 id="fns-h">Functions</h2>
        <Problem error={functions.error ?? live.error ?? recent.error} />
        {functions.data && (
          <table data-testid="functions" data-ready={status && stats ? 'true' : 'false'}>
            <thead>
              <tr>
                <th scope="col">function</th>
                <th scope="col">version</th>
                <th scope="col">triggers</th>
                <th scope="col">backlog</th>
                <th scope="col">running</th>
                <th scope="col">containers</th>
                <th scope="col">invocations ({MINUTES} min)</th>
                <th scope="col">failures</th>
                <th scope="col">p50</th>
                <th scope="col">p99</th>
              </tr>
            </thead>
            <tbody>
              {functions.data.map((fn) => (
                <Row key={fn.name} fn={fn} status={byName.get(fn.name)} stats={stats?.functions[fn.name]} />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
