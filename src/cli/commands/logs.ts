import type { Command } from 'commander';
import { ApiClient } from '../client.js';

interface Invocation {
  id: string;
  function: string;
  status: string;
  attempts: number;
  cold: boolean | null;
  error: { kind: string; message: string } | null;
  logs: Array<{ ts: number; level: string; msg: string }>;
  timings: { durationMs?: number; queueWaitMs?: number };
}

/** `faas logs ID`: an invocation's status and the logs its function wrote. */
export function logsCommand(program: Command): void {
  program
    .command('logs <invocation-id>')
    .description("print an invocation's status and logs")
    .action(async (id: string) => {
      const inv = await ApiClient.fromEnv(process.env).json<Invocation>(
        'GET',
        `/invocations/${encodeURIComponent(id)}`,
      );
      const t = inv.timings;
      console.error(
        `${inv.id} ${inv.function}: ${inv.status}, attempt ${inv.attempts}` +
          (t.durationMs !== undefined ? `, ran ${t.durationMs} ms after waiting ${t.queueWaitMs} ms` : '') +
          (inv.cold ? ', cold start' : '') +
          (inv.error ? `\n  ${inv.error.kind}: ${inv.error.message}` : ''),
      );
      for (const l of inv.logs)
        console.log(`${new Date(l.ts).toISOString()} ${l.level.toUpperCase().padEnd(5)} ${l.msg}`);
    });
}
