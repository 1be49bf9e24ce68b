import type { Command } from 'commander';
import { ApiClient } from '../client.js';

interface FunctionRow {
  name: string;
  /** The current version; null on a platform that runs a manifest without deploys. */
  version?: number | null;
  handler: string;
  timeoutMs: number;
  memoryBytes: number;
  scale: { min: number; max: number };
  triggers: Array<{
    type: string;
    bucket?: string;
    prefix?: string;
    suffix?: string;
    path?: string;
    methods?: string[];
    broker?: string;
    name?: string;
    cron?: string;
    everyMs?: number;
    timezone?: string;
  }>;
  /** The next scheduled run, ISO; only for functions with a schedule. */
  nextRun?: string;
}

/** One trigger as `faas ls` prints it. */
export function describeTrigger(t: FunctionRow['triggers'][number]): string {
  switch (t.type) {
    case 'bucket':
      return `s3://${t.bucket}/${t.prefix ?? ''}*${t.suffix ?? ''}`;
    case 'queue':
      return `${t.broker}:${t.name}`;
    case 'schedule':
      return t.cron !== undefined ? `cron '${t.cron}' ${t.timezone}` : `every ${(t.everyMs ?? 0) / 1000}s`;
    default:
      return `${t.methods?.join('|')} ${t.path}`;
  }
}

/** `faas ls`: the functions of the running platform and their triggers. */
export function lsCommand(program: Command): void {
  program
    .command('ls')
    .description('list the functions and their triggers')
    .action(async () => {
      const rows = await ApiClient.fromEnv(process.env).json<FunctionRow[]>('GET', '/functions');
      for (const f of rows) {
        const triggers = f.triggers.map(describeTrigger).join(', ');
        const next = f.nextRun ? `  next ${f.nextRun}` : '';
        const version = f.version ? `v${f.version}` : '-';
        console.log(
          `${f.name.padEnd(24)} ${f.handler.padEnd(32)} ${String(f.timeoutMs / 1000).padStart(4)}s ` +
            `${String(Math.round(f.memoryBytes / 1048576)).padStart(5)}Mi  ${version.padEnd(5)} scale ${f.scale.min}-${f.scale.max}  ${triggers || '-'}${next}`,
        );
      }
    });
}
