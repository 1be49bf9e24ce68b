/**
 * The web console in a real browser (Debian's Chromium, headless) against `faas up` as its own
 * process with a token: nothing shows without the token; each page shows the real functions and
 * invocations; a function is invoked from the form; a dead letter is re-driven after a fix and
 * seen to succeed (and `faas logs --follow` prints both); the live chart follows a 2,000-job
 * burst; axe finds no serious or critical accessibility problem. With FAAS_SCREENSHOTS=<dir>
 * (`npm run screenshots`) it also saves the README's screenshots from this run.
 */
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../src/manifest/types.js';
import { bullmqBacklog } from '../helpers/backlog.js';
import { QUEUE_PREFIX, queueName } from '../../src/queue/names.js';
import { Producer } from '../../src/queue/producer.js';
import { axe, requireChromium, signIn } from '../helpers/browser.js';
import { eventually, startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { dropBucket } from '../helpers/s3.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const TOKEN = randomBytes(24).toString('hex');
const RUN = Math.random().toString(36).slice(2, 8);
const ECHO = `echo-${RUN}`;
const BURST = `burst-${RUN}`;
const GATED = `gated-${RUN}`;
const BURST_JOBS = 2000;
const SHOTS = process.env.FAAS_SCREENSHOTS;

describe('web console in a browser', () => {
  let browser: Browser;
  let s3: S3Client;
  let redis: Redis;
  let p: RunningPlatform;
  let ctx: BrowserContext;
  let page: Page;
  const bucket = uniqueName('flags');
  const auth = { authorization: `Bearer ${TOKEN}` };
  const cspErrors: string[] = [];
  let gatedId = '';

  const api = async <T>(method: string, path: string, body?: string): Promise<T> =>
    (await (await fetch(`${p.url}${path}`, { method, headers: auth, body })).json()) as T;

  beforeAll(async () => {
    browser = await requireChromium();
    redis = await requireRedis();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    p = await startPlatformProcess(
      `version: 1
functions:
  ${ECHO}:
    handler: echo/index.handler
    scale: { max: 2 }
    triggers:
      - webhook: { path: /hooks/${ECHO}, mode: sync }
  ${BURST}:
    handler: sleeper/index.handler
    concurrency: 4
    timeout: 10s
    scale: { max: 6, idleTimeout: 2s }
  ${GATED}:
    handler: gated/index.handler
    retry: { attempts: 2, backoff: 100ms, maxBackoff: 200ms }
    env: { FLAG_BUCKET: ${bucket} }
    storage: { read: [${bucket}] }
`,
      ['echo', 'sleeper', 'gated'],
      { FAAS_API_TOKEN: TOKEN, FAAS_HOST: '127.0.0.1' },
    );
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    if (SHOTS) await mkdir(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    expect(await p?.stop()).toBe(0);
    for (const fn of [ECHO, BURST, GATED]) {
      const q = new Queue(queueName(fn), { connection: redis, prefix: QUEUE_PREFIX });
      await q.obliterate({ force: true });
      await q.close();
      await redis.del(`faas:fnidx:${fn}`);
    }
    redis?.disconnect();
    if (s3) await dropBucket(s3, bucket);
    s3?.destroy();
  });

  it('shows nothing without the token: only the login form, and every API call refused', async () => {
    const anon = await browser.newContext();
    const apiStatuses: number[] = [];
    const anonPage = await anon.newPage();
    anonPage.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (!path.startsWith('/ui') && path !== '/healthz') apiStatuses.push(r.status());
    });
    for (const path of ['/ui', `/ui/functions/${ECHO}`, '/ui/dlq']) {
      await anonPage.goto(`${p.url}${path}`);
      await anonPage.getByLabel('API token').waitFor();
      expect(await anonPage.locator('main').innerText()).not.toContain(ECHO);
    }
    expect(apiStatuses.length).toBeGreaterThan(0);
    expect(apiStatuses.every((s) => s === 401)).toBe(true);
    // A wrong token is refused and not kept.
    await anonPage.getByLabel('API token').fill('not-the-token-at-all');
    await anonPage.getByRole('button', { name: 'Sign in' }).click();
    await anonPage.getByText('That token was refused').waitFor();
    expect(await anonPage.evaluate('sessionStorage.length')).toBe(0);
    await anon.close();
    expect((await fetch(`${p.url}/functions/${ECHO}/invocations`)).status).toBe(401);
    expect((await fetch(`${p.url}/functions/${ECHO}/live`)).status).toBe(401);
    expect((await fetch(`${p.url}/invocations/stats`)).status).toBe(401);
  });

  it('overview: the functions with triggers, backlog, containers and recent invocations; service health', async () => {
    await api('POST', `/functions/${ECHO}/invoke`, '{"warm":"up"}');
    await signIn(page, p.url, TOKEN);
    const row = page.locator(`tr[data-fn="${ECHO}"]`);
    await page.locator('[data-testid="functions"][data-ready="true"]').waitFor();
    for (const fn of [BURST, GATED]) await page.locator(`tr[data-fn="${fn}"]`).waitFor();
    // Stats refresh every 2 s: the invocation above is counted.
    await expect
      .poll(async () => Number(await row.locator('td').nth(5).innerText()), { timeout: 10_000 })
      .toBe(1);
    const health = await page.getByTestId('health').innerText();
    for (const s of ['redis', 'minio', 'docker']) expect(health).toContain(s);
    expect(await page.getByTestId('platform').innerText()).toMatch(/\d+ platform instances?/);
  });

  it('invokes a function from the form, then opens its invocation: event, result, logs, timing', async () => {
    await page.goto(`${p.url}/ui/functions/${ECHO}`);
    await page.getByLabel('Event (JSON)').fill('{"hello":"from the console"}');
    await page.getByRole('button', { name: 'Invoke' }).click();
    const result = page.getByTestId('invoke-result');
    await result.waitFor();
    expect(await result.getAttribute('data-status')).toBe('200');
    expect(await result.innerText()).toContain('from the console');
    await result.getByRole('link').click();
    await page.locator('main[data-page="invocation"]').waitFor();
    await page.getByTestId('result').waitFor();
    expect(await page.getByTestId('result').innerText()).toContain('from the console');
    expect(await page.getByTestId('event').innerText()).toContain('"hello"');
    // The version that ran it: the platform deployed its manifest once.
    expect(await page.locator('main[data-page="invocation"] dl').innerText()).toMatch(/version\s+v1\b/);
    const phases = await page
      .locator('[data-testid="waterfall"] tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-phase')));
    expect(phases).toEqual(['queued', 'lease', 'run', 'record']);
    // Back on the function's page, the invocation is in its recent list.
    await page.goBack();
    await page.locator('[data-testid="invocations"] tbody tr').first().waitFor();
    expect(await page.getByTestId('invocations').innerText()).toContain('succeeded');
  });

  it('re-drives a dead letter after a fix and sees it succeed; faas logs --follow prints both', async () => {
    const follow = followLogs(p.url, GATED);
    try {
      await eventually('faas logs --follow to connect', async () =>
        follow.output().includes('following') ? true : undefined,
      );
      gatedId = (await api<{ id: string }>('POST', `/functions/${GATED}/invoke?async=1`, '{"n":7}')).id;
      await eventually('the dead letter', async () =>
        (await api<Array<{ id: string }>>('GET', `/dlq?function=${GATED}`)).some((d) => d.id === gatedId)
          ? true
          : undefined,
      );
      await page.goto(`${p.url}/ui/dlq?function=${GATED}&kind=handler`);
      const row = page.locator(`tr[data-id="${gatedId}"]`);
      await row.waitFor();
      expect(await row.innerText()).toContain('not fixed yet');
      await row.getByRole('button', { name: 'Details' }).click();
      expect(await page.getByTestId('dlq-detail').innerText()).toContain('"n": 7');
      // The fix: the function succeeds once the flag object exists.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fixed', Body: '1' }));
      await row.getByRole('button', { name: 'Re-drive' }).click();
      await page.getByText('re-driven: 1').waitFor();
      await page.getByTestId('dlq-empty').waitFor();
      await page.goto(`${p.url}/ui/invocations/${gatedId}`);
      await page.locator('[data-testid="invocation"] .badge-succeeded').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('logs').innerText()).toContain('processed 7 after the fix');
      // Re-driven, the job starts its attempts afresh: this record holds the attempt that succeeded.
      expect(await page.getByTestId('history').innerText()).toMatch(/attempt 1 succeeded/);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'invocation.png'), fullPage: true });
      const out = await eventually('both outcomes in faas logs --follow', async () => {
        const text = follow.output();
        return text.includes(`${gatedId} failed handler`) && text.includes('processed 7 after the fix')
          ? text
          : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}; it printed:\n${follow.output()}`);
      });
      expect(out).toContain(gatedId);
    } finally {
      follow.stop();
    }
  }, 90_000);

  it(`the live chart follows a ${BURST_JOBS}-job burst: the backlog's peak, scale-out and scale-in`, async () => {
    await page.goto(`${p.url}/ui/functions/${BURST}`);
    const chart = page.getByTestId('live-chart');
    await expect
      .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 10_000 })
      .toBeGreaterThan(0);

    const queue = new Queue(queueName(BURST), { connection: redis, prefix: QUEUE_PREFIX });
    const truth = { peak: 0, at: 0 };
    let sampling = true;
    // The backlog as Redis has it, every 50 ms: when was it highest, and how high.
    const sampler = (async () => {
      while (sampling) {
        const b = await bullmqBacklog(queue, Date.now());
        if (b.waiting + b.delayed > truth.peak)
          Object.assign(truth, { peak: b.waiting + b.delayed, at: Date.now() });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const producer = new Producer(
      redis,
      { [BURST]: { name: BURST, retry: { attempts: 1 } } as FunctionSpec },
      3600,
    );
    await producer.enqueue(
      Array.from({ length: BURST_JOBS }, () => ({
        functionName: BURST,
        payload: { source: 'invoke' as const, event: { ms: 50 }, enqueuedAt: Date.now(), sync: false },
      })),
    );
    let shotTaken = !SHOTS;
    let maxContainers = 0;
    const read = async () => {
      const last = JSON.parse((await chart.getAttribute('data-last')) || '{}') as Record<string, number>;
      return {
        last,
        peak: Number(await chart.getAttribute('data-peak-backlog')),
        peakAt: Number(await chart.getAttribute('data-peak-shown-at')),
      };
    };
    // Until the burst is done: the queue drained, as the chart shows it.
    await eventually(
      'the burst to drain',
      async () => {
        const seen = await read();
        maxContainers = Math.max(maxContainers, (seen.last.busy ?? 0) + (seen.last.idle ?? 0));
        // The picture: containers busy while the backlog, past its peak, comes down.
        if (!shotTaken && (seen.last.busy ?? 0) > 1 && (seen.last.backlog ?? 0) < seen.peak * 0.3) {
          await page.screenshot({ path: join(SHOTS as string, 'function-burst.png') });
          shotTaken = true;
        }
        const b = await bullmqBacklog(queue, Date.now());
        return b.waiting + b.active + b.delayed === 0 && seen.peak > 0 ? seen : undefined;
      },
      120_000,
    );
    sampling = false;
    await sampler;
    const shown = await read();
    console.log(
      `live chart: backlog peaked at ${truth.peak} (Redis, sampled every 50 ms); the chart showed a peak of ` +
        `${shown.peak} ${shown.peakAt - truth.at} ms after it; up to ${maxContainers} containers`,
    );
    expect(shown.peak).toBeGreaterThan(truth.peak / 2);
    expect(maxContainers).toBeGreaterThan(1);
    // Scale-in: idle containers stop after idleTimeout (2 s), and the chart shows none left.
    await eventually(
      'the chart to show the containers gone',
      async () => {
        const { last } = await read();
        return last.busy === 0 && last.idle === 0 && last.starting === 0 ? true : undefined;
      },
      30_000,
    );
    // Finished invocations arrived with the samples: the recent list is full.
    expect(await page.locator('[data-testid="invocations"] tbody tr').count()).toBe(50);
    await producer.close();
    await queue.close();
    if (SHOTS) {
      await page.goto(`${p.url}/ui`);
      await page.locator('[data-testid="functions"][data-ready="true"]').waitFor();
      await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
    }
  }, 180_000);

  it('axe finds no serious or critical accessibility violation on any page', async () => {
    // axe is injected as an inline script, which the console's CSP forbids: this context bypasses it.
    const a11y = await browser.newContext({ bypassCSP: true });
    const ap = await a11y.newPage();
    await ap.goto(`${p.url}/ui`);
    await ap.getByLabel('API token').waitFor();
    const results: Record<string, Awaited<ReturnType<typeof axe>>> = { login: await axe(ap) };
    await signIn(ap, p.url, TOKEN);
    const pages: Array<[string, string, string]> = [
      ['overview', '/ui', '[data-testid="functions"][data-ready="true"]'],
      ['function', `/ui/functions/${GATED}`, '[data-testid="invocations"] tbody tr'],
      ['invocation', `/ui/invocations/${gatedId}`, '[data-testid="waterfall"]'],
      ['dead letters', '/ui/dlq', '[data-testid="dlq-empty"], [data-testid="dlq"]'],
    ];
    for (const [name, path, ready] of pages) {
      await ap.goto(`${p.url}${path}`);
      await ap.locator(ready).first().waitFor();
      results[name] = await axe(ap);
    }
    await a11y.close();
    for (const [name, v] of Object.entries(results))
      console.log(
        `axe ${name}: ${v.length === 0 ? 'no violations' : v.map((x) => `${x.id} (${x.impact}, ${x.nodes})`).join(', ')}`,
      );
    const severe = Object.entries(results).flatMap(([name, v]) =>
      v
        .filter((x) => x.impact === 'serious' || x.impact === 'critical')
        .map((x) => `${name}: ${x.id} ${x.help}`),
    );
    expect(severe).toEqual([]);
  }, 60_000);

  it('the Content-Security-Policy held: nothing was refused while browsing', () => {
    expect(cspErrors).toEqual([]);
  });
});

/** `faas logs --follow NAME` as a child process; stopped by its pid. */
function followLogs(url: string, fn: string): { output(): string; stop(): void } {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL('../../bin/faas.js', import.meta.url)), 'logs', '--follow', fn],
    {
      env: { ...process.env, FAAS_URL: url, FAAS_API_TOKEN: TOKEN },
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { output: () => out, stop: () => void child.kill('SIGINT') };
}
