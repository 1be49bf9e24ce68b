/**
 * The console with many functions and invocations: 200 functions and 10,000 recent invocations,
 * seeded into Redis through the platform's own RecordStore (so the per-function index is written
 * as the worker writes it), served by `faas api`. Prints how long each page takes until its main
 * table shows (aim: under a second; timings are reported, not asserted), and checks the pages
 * show the seeded data.
 */
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexKey } from '../../src/queue/invocation-index.js';
import { RecordStore, type InvocationRecord } from '../../src/queue/records.js';
import { requireChromium, timeUntil, timeUntilEach } from '../helpers/browser.js';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireRedis } from '../helpers/services.js';

const RUN = Math.random().toString(36).slice(2, 8);
const FUNCTIONS = Array.from({ length: 200 }, (_, i) => `many-${RUN}-${String(i).padStart(3, '0')}`);
const PER_FUNCTION = 50;

/** One finished invocation of `fn`, `agoMs` before now; every tenth one failed. */
function record(fn: string, n: number, agoMs: number): InvocationRecord {
  const finishedAt = Date.now() - agoMs;
  const durationMs = 5 + ((n * 37) % 200);
  const failed = n % 10 === 0;
  return {
    id: `${fn}.${randomBytes(16).toString('hex')}`,
    function: fn,
    status: failed ? 'failed' : 'succeeded',
    result: failed ? undefined : { n },
    error: failed
      ? { kind: n % 20 === 0 ? 'timeout' : 'handler', message: `seeded failure ${n}` }
      : undefined,
    logs: [{ ts: finishedAt - 1, level: 'info', msg: `seeded invocation ${n}` }],
    attempts: 1,
    cold: n % 7 === 0,
    source: 'invoke',
    timings: {
      enqueuedAt: finishedAt - durationMs - 20,
      pickedAt: finishedAt - durationMs - 8,
      startedAt: finishedAt - durationMs - 2,
      finishedAt,
      queueWaitMs: 18,
      leaseMs: 6,
      durationMs,
    },
  };
}

describe('console with 200 functions and 10,000 invocations', () => {
  let browser: Browser;
  let redis: Redis;
  let p: RunningPlatform;
  let page: Page;
  const ids: string[] = [];

  beforeAll(async () => {
    browser = await requireChromium();
    redis = await requireRedis();
    const manifest = `version: 1\nfunctions:\n${FUNCTIONS.map((f) => `  ${f}:\n    handler: echo/index.handler\n`).join('')}`;
    const records = new RecordStore(redis, 3600);
    const t0 = performance.now();
    const all = FUNCTIONS.flatMap((fn) =>
      Array.from({ length: PER_FUNCTION }, (_, n) => record(fn, n, 1000 + n * 3000)),
    );
    for (let i = 0; i < all.length; i += 500)
      await Promise.all(all.slice(i, i + 500).map((r) => records.put(r)));
    ids.push(...all.map((r) => r.id));
    console.log(`seeded ${all.length} invocation records in ${Math.round(performance.now() - t0)} ms`);
    // The API role alone: the pages read Redis; no function needs to run.
    p = await startPlatformProcess(manifest, ['echo'], {}, undefined, 'api');
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    expect(await p?.stop()).toBe(0);
    for (let i = 0; i < ids.length; i += 1000)
      await redis.del(...ids.slice(i, i + 1000).map((id) => `faas:inv:${id}`));
    await redis.del(...FUNCTIONS.map(indexKey));
    redis?.disconnect();
  });

  it('each page shows its main table; the time it takes is printed', async () => {
    const fn = FUNCTIONS[17] as string;
    const newest = ids[17 * PER_FUNCTION] as string;
    const timings: Record<string, number> = {};
    const overview = ['[data-testid="functions"] tbody tr', '[data-testid="functions"][data-ready="true"]'];
    const first = await timeUntilEach(page, `${p.url}/ui`, overview);
    const again = await timeUntilEach(page, `${p.url}/ui`, overview);
    timings['overview, first visit: rows'] = first[0] as number;
    timings['overview, first visit: backlog and stats filled in'] = first[1] as number;
    timings['overview: rows'] = again[0] as number;
    timings['overview: backlog and stats filled in'] = again[1] as number;
    expect(await page.locator('[data-testid="functions"] tbody tr').count()).toBe(200);
    // Every seeded invocation finished within the stats window: 50 each, 5 of them failed.
    const row = page.locator(`tr[data-fn="${fn}"] td`);
    expect(await row.nth(5).innerText()).toBe(String(PER_FUNCTION));
    expect(await row.nth(6).innerText()).toBe(String(PER_FUNCTION / 10));

    timings.function = await timeUntil(
      page,
      `${p.url}/ui/functions/${fn}`,
      '[data-testid="invocations"] tbody tr',
    );
    expect(await page.locator('[data-testid="invocations"] tbody tr').count()).toBe(PER_FUNCTION);
    expect(await page.locator('[data-testid="invocations"] tbody tr').first().getAttribute('data-id')).toBe(
      newest,
    );
    timings['function, failed only'] = await timeUntil(
      page,
      `${p.url}/ui/functions/${fn}?status=failed`,
      '[data-testid="invocations"] tbody tr',
    );
    const statuses = await page.locator('[data-testid="invocations"] tbody tr .badge').allInnerTexts();
    expect(statuses).toEqual(Array(PER_FUNCTION / 10).fill('failed'));
    await timeUntil(page, `${p.url}/ui/functions/${fn}?kind=timeout`, '[data-testid="invocations"] tbody tr');
    expect(await page.locator('[data-testid="invocations"] tbody tr').count()).toBe(
      Array.from({ length: PER_FUNCTION }, (_, n) => n).filter((n) => n % 20 === 0).length,
    );

    timings.invocation = await timeUntil(
      page,
      `${p.url}/ui/invocations/${newest}`,
      '[data-testid="waterfall"]',
    );
    expect(await page.getByTestId('logs').innerText()).toContain('seeded invocation 0');
    timings['dead letters'] = await timeUntil(
      page,
      `${p.url}/ui/dlq`,
      '[data-testid="dlq-empty"], [data-testid="dlq"]',
    );
    for (const [name, ms] of Object.entries(timings))
      console.log(`page ${name}: main table shown after ${ms} ms`);
  }, 120_000);
});
