import type { Command } from 'commander';
import { UserError } from '../../util/user-error.js';
import { ApiClient } from '../client.js';

interface DeadLetter {
  id: string;
  function: string;
  failedAt?: number;
  attempts: number;
  event: unknown;
  error?: { kind: string; message: string };
  history: Array<{ attempt: number; error?: { kind: string; message: string } }>;
  logs: Array<{ ts: number; level: string; msg: string }>;
}

/** `faas dlq ls|show|retry`: the invocations that failed their last attempt, and re-driving them. */
export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: invocations that failed every attempt');
  dlq
    .command('ls')
    .option('--function <name>', 'only this function')
    .description('list dead letters')
    .action(async (o: { function?: string }) => {
      const q = o.function ? `?function=${encodeURIComponent(o.function)}` : '';
      const rows = await ApiClient.fromEnv(process.env).json<DeadLetter[]>('GET', `/dlq${q}`);
      if (rows.length === 0) console.error('no dead letters');
      for (const d of rows) {
        const when = d.failedAt ? new Date(d.failedAt).toISOString() : '-';
        console.log(`${d.id}  ${when}  ${d.attempts} attempt(s)  ${d.error?.kind}: ${d.error?.message}`);
      }
    });
  dlq
    .command('show <id>')
    .description('show a dead letter: its event, every attempt, its logs')
    .action(async (id: string) => {
      const d = await ApiClient.fromEnv(process.env).json<DeadLetter>(
        'GET',
        `/dlq/${encodeURIComponent(id)}`,
      );
      console.log(JSON.stringify(d, null, 2));
    });
  dlq
    .command('retry [id]')
    .description('re-drive one dead letter, or all of them with --all')
    .option('--all', 'every dead letter (of --function, if given)')
    .option('--function <name>', 'with --all: only this function')
    .action(async (id: string | undefined, o: { all?: boolean; function?: string }) => {
      if (!id && !o.all) {
        throw new UserError('`faas dlq retry` needs a dead letter id or --all', '`faas dlq ls` lists them');
      }
      const client = ApiClient.fromEnv(process.env);
      const path = id
        ? `/dlq/${encodeURIComponent(id)}/retry`
        : `/dlq/retry${o.function ? `?function=${encodeURIComponent(o.function)}` : ''}`;
      const res = await client.json<{ retried: string[] }>('POST', path);
      console.log(`re-driven: ${res.retried.length}`);
      for (const r of res.retried) console.log(r);
    });
}
