import type { Command } from 'commander';
import { readEvents } from '../../util/sse.js';
import { UserError } from '../../util/user-error.js';
import { ApiClient } from '../client.js';

interface Invocation {
  id: string;
  function: string;
  status: string;
  attempts: number;
  cold: boolean | null;
  error: { kind: string; message: string } | null;
  logs: Array<{ ts: number; level: string; msg: string }>;
  timings: { durationMs?: number; queueWaitMs?: number; finishedAt?: number };
}

/** One finish, as each sample of `GET /functions/:name/live` lists those since the last one. */
interface Finish {
  id: string;
  status: string;
  kind?: string;
  durationMs: number;
  cold: boolean;
  finishedAt: number;
}

const logLine = (l: Invocation['logs'][0]) =>
  `${new Date(l.ts).toISOString()} ${l.level.toUpperCase().padEnd(5)} ${l.msg}`;

function fetchInvocation(client: ApiClient, id: string): Promise<Invocation> {
  return client.json<Invocation>('GET', `/invocations/${encodeURIComponent(id)}`);
}

/** `faas logs ID`: one invocation's status on stderr, its log lines on stdout. */
async function show(client: ApiClient, id: string): Promise<void> {
  const inv = await fetchInvocation(client, id);
  const t = inv.timings;
  console.error(
    `${inv.id} ${inv.function}: ${inv.status}, attempt ${inv.attempts}` +
      (t.durationMs !== undefined ? `, ran ${t.durationMs} ms after waiting ${t.queueWaitMs} ms` : '') +
      (inv.cold ? ', cold start' : '') +
      (inv.error ? `\n  ${inv.error.kind}: ${inv.error.message}` : ''),
  );
  for (const l of inv.logs) console.log(logLine(l));
}

/**
 * `faas logs --follow NAME`: each invocation of NAME as it finishes, one header line and its log
 * lines, all on stdout, until Ctrl-C. Follows the same live stream the web console charts;
 * reconnects when the platform goes away for a moment.
 */
async function follow(client: ApiClient, name: string): Promise<never> {
  const path = `/functions/${encodeURIComponent(name)}/live`;
  // Printed one invocation at a time, in the order they finished.
  let printing = Promise.resolve();
  // The header comes from the finish itself; the logs from the record, unless a later attempt
  // (a re-drive) has replaced it since.
  const print = async (e: Finish) => {
    const how = e.status === 'failed' ? `${e.kind ?? 'error'}` : `${e.durationMs} ms`;
    const inv = await fetchInvocation(client, e.id).catch((err: Error) => {
      console.error(`faas: ${e.id}: ${err.message}`);
      return undefined;
    });
    const same = inv?.timings.finishedAt === e.finishedAt;
    const detail = same && inv?.error ? `: ${inv.error.message}` : '';
    console.log(
      `${new Date(e.finishedAt).toISOString()} ${e.id} ${e.status} ${how}${detail}${e.cold ? ' (cold)' : ''}`,
    );
    if (inv && same) for (const l of inv.logs) console.log(`  ${logLine(l)}`);
    else if (inv) console.log('  (logs replaced by a later attempt: `faas logs ID` shows them)');
  };
  let announced = false;
  for (let connected = false; ; connected = true) {
    // The first connection must succeed; later ones are retried while the platform restarts.
    const res = await client.request('GET', path).catch((err: Error) => {
      if (!connected) throw err;
      return undefined;
    });
    if (res?.status === 404) throw new UserError(`no function named ${name}`, '`faas ls` lists them');
    if (res?.ok && res.body) {
      if (!connected) console.error(`following ${name} (Ctrl-C to stop)`);
      else if (announced) console.error('faas: reconnected');
      announced = false;
      await readEvents(res.body, (event, data) => {
        if (event !== 'sample') return;
        const sample = JSON.parse(data) as { finished: Finish[] };
        for (const e of [...sample.finished].reverse()) printing = printing.then(() => print(e));
      }).catch(() => undefined);
    }
    // Said once per outage, not once per retry.
    if (!announced) console.error('faas: the live stream ended; reconnecting');
    announced = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `faas logs ID` prints one invocation; `faas logs --follow NAME` streams a function's. */
export function logsCommand(program: Command): void {
  program
    .command('logs [invocation-id]')
    .description("print an invocation's status and logs, or follow a function's with --follow")
    .option('-f, --follow <function>', "stream the function's invocations and logs as they finish")
    .action(async (id: string | undefined, o: { follow?: string }) => {
      const client = ApiClient.fromEnv(process.env);
      if (o.follow) await follow(client, o.follow);
      else if (id) await show(client, id);
      else
        throw new UserError(
          '`faas logs` needs an invocation id or --follow NAME',
          '`faas logs ID` shows one invocation, `faas logs --follow NAME` streams a function',
        );
    });
}
