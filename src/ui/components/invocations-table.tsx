import { ms, when } from '../format.js';
import { paths } from '../router.js';
import type { IndexEntry } from '../types.js';
import { Badge, Start } from './badge.js';
import { Link } from './link.js';

/** Finished invocations, newest first: each links to its own page. */
export function InvocationsTable(props: { rows: IndexEntry[]; testid?: string }) {
  return (
    <table data-testid={props.testid ?? 'invocations'}>
      <thead>
        <tr>
          <th scope="col">invocation</th>
          <th scope="col">status</th>
          <th scope="col">error kind</th>
          <th scope="col">duration</th>
          <th scope="col">start</th>
          <th scope="col">finished</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.id} data-id={r.id}>
            <td>
              <Link href={paths.invocation(r.id)} class="mono">
                {r.id}
              </Link>
            </td>
            <td>
              <Badge status={r.status} />
            </td>
            <td>{r.kind ?? ''}</td>
            <td class="num">{ms(r.durationMs)}</td>
            <td>
              <Start cold={r.cold} />
            </td>
            <td>{when(r.finishedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
