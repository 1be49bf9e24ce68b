import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/util/limiter.js';

/** A task that ends when told to, recording when it began. */
function gate(log: string[], name: string) {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
      return name;
    },
    open: () => open(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('runs at most max tasks at once, the rest in the order they came', async () => {
    const log: string[] = [];
    const l = new Limiter(2);
    const g = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
    const results = g.map((x) => l.run(x.task));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    expect([l.running, l.waiting]).toEqual([2, 2]);
    g[1]?.open();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    g[0]?.open();
    g[2]?.open();
    g[3]?.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect([l.running, l.waiting]).toEqual([0, 0]);
  });

  it('frees the turn of a task that fails', async () => {
    const l = new Limiter(1);
    const failed = l.run(async () => {
      throw new Error('engine refused');
    });
    const next = l.run(async () => 'ran');
    await expect(failed).rejects.toThrow('engine refused');
    expect(await next).toBe('ran');
    expect(l.running).toBe(0);
  });

  it('refuses a max below one', () => {
    expect(() => new Limiter(0)).toThrow('max ≥ 1');
  });
});
