import type { Command } from 'commander';
import { UserError } from '../../util/user-error.js';
import { ApiClient } from '../client.js';
import type { Host } from '../../pool/hosts.js';

interface Status {
  instances: number;
  warm: number;
  /** Absent from a platform older than the hosts list. */
  hosts?: Host[];
  functions: Array<{
    name: string;
    backlog: { waiting: number; active: number; delayed: number; oldestWaitMs: number };
    containers: { starting: number; idle: number; busy: number; draining: number };
    scale: { min: number; max: number };
  }>;
}

function render(s: Status): string {
  const head = `${'FUNCTION'.padEnd(24)} ${'WAITING'.padStart(8)} ${'RUNNING'.padStart(8)} ${'RETRY'.padStart(6)} ${'OLDEST'.padStart(8)}   STARTING IDLE BUSY DRAINING  SCALE`;
  const rows = s.functions.map((f) => {
    const b = f.backlog;
    const c = f.containers;
    return (
      `${f.name.padEnd(24)} ${String(b.waiting).padStart(8)} ${String(b.active).padStart(8)} ${String(b.delayed).padStart(6)} ` +
      `${(b.oldestWaitMs / 1000).toFixed(1).padStart(7)}s   ${String(c.starting).padStart(8)} ${String(c.idle).padStart(4)} ` +
      `${String(c.busy).padStart(4)} ${String(c.draining).padStart(8)}  ${f.scale.min}-${f.scale.max}`
    );
  });
  return [
    `${s.instances} platform instance(s), ${s.warm} pre-warmed container(s)`,
    ...renderHosts(s.hosts ?? [], Date.now()),
    head,
    ...rows,
  ].join('\n');
}

/** One line per worker host; a host that stopped beating says since when. */
export function renderHosts(hosts: NonNullable<Status['hosts']>, now: number): string[] {
  if (hosts.length === 0) return [];
  const head = `${'HOST'.padEnd(24)} ${'STATE'.padEnd(9)} ${'CONTAINERS'.padStart(10)} ${'CAPACITY'.padStart(8)}  LAST HEARTBEAT`;
  const rows = hosts.map(
    (h) =>
      `${h.id.padEnd(24)} ${(!h.up ? 'DOWN' : h.healthy === false ? 'UNHEALTHY' : 'up').padEnd(9)} ${String(h.containers).padStart(10)} ${String(h.capacity).padStart(8)}  ${((now - h.lastHeartbeat) / 1000).toFixed(1)}s ago${h.up && h.problem ? `  (${h.problem})` : ''}`,
  );
  return [head, ...rows, ''];
}

/** `faas status [--once]`: functions, backlog and pools, refreshed every second. */
export function statusCommand(program: Command): void {
  program
    .command('status')
    .description('show functions, their backlog and container pools (refreshing)')
    .option('--once', 'print once and exit')
    .option('-i, --interval <ms>', 'refresh interval', '1000')
    .action(async (o: { once?: boolean; interval: string }) => {
      const intervalMs = Number(o.interval);
      if (!/^\d+$/.test(o.interval) || intervalMs < 100) {
        throw new UserError(
          `--interval "${o.interval}" is not a refresh interval`,
          'give milliseconds, 100 or more',
        );
      }
      const client = ApiClient.fromEnv(process.env);
      const once = o.once || !process.stdout.isTTY;
      for (;;) {
        const text = render(await client.json<Status>('GET', '/status'));
        if (once) {
          console.log(text);
          return;
        }
        process.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString()}  (Ctrl-C to quit)\n${text}\n`);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    });
}
