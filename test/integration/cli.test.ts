/**
 * The `faas` CLI against a running platform: ls, invoke, logs, status, and the dead-letter set
 * (a poison event fails every attempt, lands in the set, and is re-driven after a fix).
 */
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { eventually, startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';

function faas(url: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/faas.js', ...args], {
      env: { ...process.env, FAAS_URL: url },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

// A function name of this run only: its queue, records and dead letters are its own.
const FN = `flaky-${Math.random().toString(36).slice(2, 8)}`;
const MANIFEST = `version: 1
functions:
  ${FN}:
    handler: flaky/index.handler
    retry: { attempts: 3, backoff: 100ms, maxBackoff: 500ms }
`;

describe('faas CLI and dead letters', () => {
  it('lists, invokes, shows logs and status; a poison event is dead-lettered and re-driven after a fix', async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    let p = await startPlatformProcess(MANIFEST, ['flaky']);
    const dir = p.dir;
    try {
      const ls = await faas(p.url, ['ls']);
      expect(ls.code).toBe(0);
      expect(ls.out).toMatch(new RegExp(`^${FN}\\s+flaky/index\\.handler`, 'm'));

      const ok = await faas(p.url, ['invoke', FN, '-d', '{"n":1}']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toEqual({ n: 1, fixed: false });
      const id = /invocation (\S+):/.exec(ok.err)?.[1] as string;
      const logs = await faas(p.url, ['logs', id]);
      expect(logs.out).toMatch(/INFO\s+processed 1/);
      expect(logs.err).toMatch(/succeeded, attempt 1/);

      // 20 good events and one poison event: the poison one never blocks the others.
      const good = await Promise.all(
        Array.from({ length: 20 }, (_, i) => faas(p.url, ['invoke', FN, '--async', '-d', `{"n":${i + 10}}`])),
      );
      expect(good.every((r) => r.code === 0)).toBe(true);
      const poison = await faas(p.url, ['invoke', FN, '--async', '-d', '{"n":99,"poison":true}']);
      const poisonId = (JSON.parse(poison.out) as { id: string }).id;
      const listed = await eventually('the dead letter', async () => {
        const r = await faas(p.url, ['dlq', 'ls']);
        return r.out.includes(poisonId) ? r.out : undefined;
      });
      expect(listed).toMatch(/3 attempt\(s\)\s+handler: poison event 99/);
      const shown = JSON.parse((await faas(p.url, ['dlq', 'show', poisonId])).out) as {
        history: unknown[];
        event: unknown;
      };
      expect(shown.history).toHaveLength(3);
      expect(shown.event).toMatchObject({ source: 'invoke', event: { n: 99, poison: true } });
      for (const g of good) {
        const gid = (JSON.parse(g.out) as { id: string }).id;
        await eventually('good events', async () =>
          (await faas(p.url, ['logs', gid])).err.includes('succeeded') ? true : undefined,
        );
      }

      const status = await faas(p.url, ['status', '--once']);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(new RegExp(`^${FN}\\s+0\\s+0\\s+0`, 'm'));

      // Fix the function, deploy (restart on the same manifest), re-drive the dead letters.
      expect(await p.stop({ keepDir: true })).toBe(0);
      const file = join(dir, 'flaky', 'index.mjs');
      await writeFile(
        file,
        (await readFile(file, 'utf8')).replace('const FIXED = false;', 'const FIXED = true;'),
      );
      p = await startPlatformProcess(MANIFEST, [], {}, dir);
      const retried = await faas(p.url, ['dlq', 'retry', '--all']);
      expect(retried.out).toMatch(/re-driven: 1/);
      await eventually('the re-driven event to succeed', async () => {
        const r = await faas(p.url, ['logs', poisonId]);
        return r.err.includes('succeeded') ? r : undefined;
      });
      expect((await faas(p.url, ['dlq', 'ls'])).err).toMatch(/no dead letters/);
    } finally {
      expect(await p.stop()).toBe(0);
      const redis = await requireRedis();
      const queue = new Queue(queueName(FN), { connection: redis, prefix: QUEUE_PREFIX });
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  }, 120_000);
});
