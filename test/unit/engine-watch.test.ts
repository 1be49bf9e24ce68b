import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { EngineWatch } from '../../src/worker/engine-watch.js';

describe('EngineWatch', () => {
  it('counts the engine down after two failed checks, once, and up again after one answer', async () => {
    let answers = true;
    const calls: string[] = [];
    const w = new EngineWatch({
      ping: async () => {
        if (!answers) throw new Error('connect ENOENT /run/docker.sock');
      },
      onDown: (p) => calls.push(`down: ${p}`),
      whileDown: () => calls.push('still down'),
      onUp: () => calls.push('up'),
      logger: pino({ level: 'silent' }),
    });
    await w.check();
    expect(w.healthy).toBe(true);
    answers = false;
    await w.check();
    expect(w.healthy).toBe(true);
    await w.check();
    expect(w.healthy).toBe(false);
    await w.check();
    answers = true;
    await w.check();
    expect(w.healthy).toBe(true);
    expect(calls).toEqual([
      'down: the Docker engine does not answer: connect ENOENT /run/docker.sock',
      'still down',
      'up',
    ]);
  });

  it('fails a check that hangs', async () => {
    const w = new EngineWatch({
      ping: () => new Promise(() => undefined),
      onDown: () => undefined,
      onUp: () => undefined,
      logger: pino({ level: 'silent' }),
      failures: 1,
      timeoutMs: 20,
    });
    await w.check();
    expect(w.problem).toBe('the Docker engine does not answer: no answer within 20 ms');
  });
});
