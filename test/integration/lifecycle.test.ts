/**
 * A platform process's life as an operator sees it: events counted in /metrics by source and
 * outcome, a quiet shutdown (no warning from work cut short by the stop), and an error nothing
 * handled ends the process with status 70 and one fatal log line, never silently.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FATAL_EXIT_CODE } from '../../src/cli/fatal.js';
import { startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';

const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));

/** Lines of pino output at warn level or above. */
function loud(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
}

describe('platform lifecycle', () => {
  it('counts events by source and outcome, and stops quietly while containers are still starting', async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    const p = await startPlatformProcess(
      `version: 1
functions:
  echo:
    handler: echo/index.handler
`,
      ['echo'],
      { FAAS_PREWARM: '3' },
    );
    let code: number | null = null;
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${p.url}/functions/echo/invoke?async=1`, { method: 'POST', body: '{}' });
        expect(res.status).toBe(202);
      }
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      expect(metrics).toMatch(/^faas_events_total\{source="invoke",outcome="queued"\} 3$/m);
      expect(metrics).toMatch(/^faas_heartbeats_missed_total 0$/m);
      expect(metrics).toMatch(/^# TYPE faas_reaper_failures_total counter$/m);
    } finally {
      // Stopped at once: the pre-warmed containers may still be starting.
      code = await p.stop({ keepDir: true });
    }
    expect(code).toBe(0);
    expect(loud(p.output())).toEqual([]);
  }, 120_000);

  it('an unhandled rejection is logged as fatal and ends the process with status 70', async () => {
    const script = `
      const { exitOnUnexpected } = await import(${JSON.stringify(dist('cli/fatal.js'))});
      const { createLogger } = await import(${JSON.stringify(dist('observability/logger.js'))});
      exitOnUnexpected(createLogger('info'), async () => console.log('stopped'));
      setTimeout(() => Promise.reject(new Error('nobody awaited this')), 10);
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(FATAL_EXIT_CODE);
    const fatal = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; err: string; kind: string });
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ level: 60, err: 'nobody awaited this', kind: 'unhandledRejection' });
    expect(out).toContain('stopped');
  });
});
