/** A source sending faster than FAAS_RATE_LIMIT gets 429s, on the real server. */
import { describe, expect, it } from 'vitest';
import { startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireRedis } from '../helpers/services.js';

describe('per-source rate limit', () => {
  it('answers 429 with Retry-After once a source passes its burst', async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    const p = await startPlatformProcess(
      `version: 1\nfunctions:\n  hook:\n    handler: hook/index.handler\n    triggers:\n      - webhook: { path: /hooks/limited }\n`,
      ['hook'],
      { FAAS_RATE_LIMIT: '5' },
    );
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${p.url}/hooks/limited`, { method: 'POST', body: 'x' });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
      }
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(10);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 60_000);
});
