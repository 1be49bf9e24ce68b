import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UserError } from '../../util/user-error.js';
import { ApiClient, refusal } from '../client.js';

/** The event as text, refused here when it is not JSON: the platform would refuse it anyway. */
async function eventText(o: { data: string; file?: string }): Promise<string> {
  let text = o.data;
  if (o.file) {
    try {
      text = await readFile(o.file, 'utf8');
    } catch (err) {
      throw new UserError(
        `cannot read ${o.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        'check the --file path',
      );
    }
  }
  try {
    JSON.parse(text);
  } catch (err) {
    const from = o.file ? `the event in ${o.file}` : 'the event given with --data';
    throw new UserError(
      `${from} is not JSON (${(err as Error).message})`,
      `pass JSON, like -d '{"key":"value"}'`,
    );
  }
  return text;
}

/** `faas invoke NAME [--data JSON | --file F] [--async]`: calls a function and prints its result. */
export function invokeCommand(program: Command): void {
  program
    .command('invoke <name>')
    .description('invoke a function with a JSON event and print the result')
    .option('-d, --data <json>', 'the event, as JSON', '{}')
    .option('-f, --file <file>', 'read the event from a file')
    .option('--async', 'queue it and print the invocation id')
    .option('--idempotency-key <key>', 'repeat-safe key: the same key runs once')
    .action(
      async (name: string, o: { data: string; file?: string; async?: boolean; idempotencyKey?: string }) => {
        const body = await eventText(o);
        const client = ApiClient.fromEnv(process.env);
        const path = `/functions/${encodeURIComponent(name)}/invoke${o.async ? '?async=1' : ''}`;
        const key = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined;
        const res = await client.request('POST', path, body, key);
        const text = await res.text();
        const id = res.headers.get('x-faas-invocation-id');
        if (res.ok) {
          console.log(text);
          if (id) console.error(`invocation ${id}: \`faas logs ${id}\` shows its logs`);
          return;
        }
        const data = parseJson(text) as { error?: { kind?: string; message?: string } };
        if (id && (res.status === 502 || res.status === 504)) {
          // The function ran and failed (or ran out of time): its error, and where its logs are.
          const kind = data.error?.kind ?? 'error';
          throw new UserError(
            `function ${name} failed (${kind}): ${data.error?.message ?? `status ${res.status}`}`,
            `\`faas logs ${id}\` shows its logs`,
          );
        }
        throw refusal('POST', path, res.status, data);
      },
    );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
