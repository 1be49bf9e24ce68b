import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { ApiClient, run } from '../client.js';

/** `faas invoke NAME [--data JSON | --file F] [--async]`: calls a function and prints its result. */
export function invokeCommand(program: Command): void {
  program
    .command('invoke <name>')
    .description('invoke a function with a JSON event and print the result')
    .option('-d, --data <json>', 'the event, as JSON', '{}')
    .option('-f, --file <file>', 'read the event from a file')
    .option('--async', 'queue it and print the invocation id')
    .option('--idempotency-key <key>', 'repeat-safe key: the same key runs once')
    .action((name: string, o: { data: string; file?: string; async?: boolean; idempotencyKey?: string }) =>
      run(async () => {
        const body = o.file ? await readFile(o.file, 'utf8') : o.data;
        const client = ApiClient.fromEnv(process.env);
        const path = `/functions/${encodeURIComponent(name)}/invoke${o.async ? '?async=1' : ''}`;
        const res = await client.request('POST', path, body);
        const text = await res.text();
        const id = res.headers.get('x-faas-invocation-id');
        if (res.ok) {
          console.log(text);
          if (id) console.error(`invocation ${id}: \`faas logs ${id}\` shows its logs`);
          return;
        }
        throw new Error(`${res.status}: ${text}`);
      }),
    );
}
